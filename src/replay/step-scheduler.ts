/**
 * The scheduler behind every replay: runs steps through their handlers in topological order
 * (independent branches concurrently, within `jobs` slots), each step consuming the replayed
 * outputs of its upstream steps, and returns one manifest row per step. `rerun` gives it one
 * chain, `verify` the union of many (each distinct step once).
 */
import { stat } from "node:fs/promises";
import pLimit from "p-limit";
import type { BlobStore } from "../blobs/index.js";
import type { ChainStep } from "../chain/types.js";
import type { PayloadDiffer } from "../diagnose/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import {
  handlerFor,
  type HandlerOutcome,
  type PrepareContext,
  type ReplayInput,
  type StepHandler,
} from "../handlers/index.js";
import { inputHashOf, isContentHash } from "../hashing/index.js";
import type { ImageResolver } from "../images/types.js";
import type { StepExecutor } from "../runner/types.js";
import type { ManifestInput, ManifestStep } from "./manifest.js";
import { removeQuietly, type OutDir } from "./out-dir.js";
import { describeBadBlob } from "./plan-replay.js";
import type { ReplayReporter } from "./reporter.js";

export interface SchedulerContext {
  blobs: BlobStore;
  executor: StepExecutor;
  images: ImageResolver;
  /** Labels the containers (the replay's or the batch's id). */
  runId: string;
  signal: AbortSignal;
  jobs: number;
  /** Where replayed payloads (artifacts/) and diffs (diffs/) go. */
  out: OutDir;
  reporter: ReplayReporter;
  /** Per-step progress (the replay's row); none for a batch. */
  progress?: { add(row: ManifestStep): void } | undefined;
  diff: boolean;
  differ?: PayloadDiffer | undefined;
  /**
   * Upstream steps replayed elsewhere (a queued batch's other workers), by the id of the
   * artifact each produced: their outputs feed this run's steps as a parent's would.
   */
  upstreamResults?: ReadonlyMap<string, UpstreamResult> | undefined;
}

/** A step replayed outside this run: its row, and its output's bytes when it produced some. */
export interface UpstreamResult {
  row: ManifestStep;
  replayed: { file: string; contentHash: string; size: number } | null;
}

export interface ScheduledSteps {
  /** One row per step, in the order of `executed`. */
  rows: ManifestStep[];
  /** What each step consumed: triage replays it on the same inputs. */
  consumed: Map<string, ReplayInput[]>;
}

/** Where a step's input bytes come from. */
interface Payload {
  file: string;
  contentHash: string;
  size: number;
  origin: "replayed" | "recorded";
}

interface StepResult {
  row: ManifestStep;
  /** Replayed bytes for downstream steps; null: downstream uses the recorded payload. */
  replayed: Payload | null;
}

function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/**
 * Replays `executed` (topological order). `willRun` says which upstream steps are part of this
 * run: the others' recorded payloads are frozen inputs.
 */
export async function replaySteps(
  scheduler: SchedulerContext,
  executed: readonly ChainStep[],
  willRun: (stepId: string) => boolean,
): Promise<ScheduledSteps> {
  const { blobs, out, reporter, signal, jobs, progress } = scheduler;
  const replayId = scheduler.runId;
  const deps = scheduler;
  const limit = pLimit(Math.max(1, jobs));
  const results = new Map<string, Promise<StepResult>>();
  /** What each step consumed: triage replays it on the same inputs. */
  const consumed = new Map<string, ReplayInput[]>();
  /** Resolved once a step holds a slot: it runs, or prepares while its parents finish. */
  const begun = new Map<string, Promise<void>>();
  const byId = new Map(executed.map((cs) => [cs.step.id, cs]));
  for (const cs of executed) {
    const upstream = cs.upstreamStepIds.filter(willRun);
    let markBegun = (): void => undefined;
    begun.set(cs.step.id, new Promise<void>((resolve) => (markBegun = resolve)));
    const resultsOf = (ids: string[]) => Promise.all(ids.flatMap((id) => results.get(id) ?? []));
    results.set(
      cs.step.id,
      (async () => {
        try {
          const frozenParents = upstream.flatMap((id) => {
            const parent = byId.get(id);
            return parent !== undefined && handlerFor(parent.step.stepType)?.mode === "frozen"
              ? [parent]
              : [];
          });
          // A frozen parent (ingest) only checks that its blob hashes right: the step need not
          // wait for that. It runs on the blob at once while the check reads it; its result is
          // kept only if the check then says the blob is intact (see replayStep).
          const provisional = frozenParents.length > 0 ? await provisionalPayloads(frozenParents) : undefined;
          const awaited =
            provisional === undefined
              ? upstream
              : upstream.filter((id) => !frozenParents.some((f) => f.step.id === id));
          // Pipelining: a step takes a slot as soon as each parent holds one, and prepares its
          // container there (image, script, create) while the parents finish.
          await Promise.all(awaited.flatMap((id) => begun.get(id) ?? []));
          const parents = resultsOf(awaited);
          parents.catch(() => undefined); // awaited in replayStep; may settle before that
          const first = await limit(() => {
            markBegun();
            return replayStep(cs, parents, provisional);
          });
          if (first !== "redo") return first;
          // Again, on what every parent gave; waited for outside a slot, like any parent.
          const all = await resultsOf(upstream);
          const second = await limit(() => replayStep(cs, Promise.resolve(all)));
          if (second === "redo")
            throw new Error("internal: a replay without provisional inputs asked to be redone");
          return second;
        } finally {
          markBegun();
        }
      })(),
    );
  }

  /** The blob of each frozen parent's target, as it should be; undefined when one is not there. */
  async function provisionalPayloads(frozenParents: ChainStep[]): Promise<Map<string, Payload> | undefined> {
    const map = new Map<string, Payload>();
    for (const parent of frozenParents) {
      const { id, contentHash } = parent.target;
      if (!isContentHash(contentHash)) return undefined;
      const file = blobs.pathFor(contentHash);
      const size = await stat(file).then(
        (s) => s.size,
        () => undefined,
      );
      if (size === undefined) return undefined;
      map.set(id, { file, contentHash, size, origin: "replayed" });
    }
    return map;
  }

  async function recordedPayload(artifactId: string, contentHash: string): Promise<Payload | string> {
    if (!isContentHash(contentHash))
      return `input ${artifactId}: recorded content_hash "${contentHash}" is malformed`;
    const check = await blobs.check(contentHash);
    if (check.state !== "intact") return describeBadBlob(check, artifactId, contentHash);
    return { file: blobs.pathFor(contentHash), contentHash, size: check.size, origin: "recorded" };
  }

  /**
   * Replays one step. Its handler prepares what it can at once (a container step creates its
   * container); then the step waits for its parents. With `provisional` payloads (the blobs
   * of frozen parents, not checked yet), the step runs on them and then waits for their
   * checks: "redo" when one is not intact, so the caller replays it again on what the parents
   * actually gave.
   */
  async function replayStep(
    cs: ChainStep,
    parentsReady: Promise<StepResult[]>,
    provisional?: Map<string, Payload>,
  ): Promise<StepResult | "redo"> {
    const handler = handlerFor(cs.step.stepType);
    const warnings: string[] = [];
    const handlerContext: PrepareContext = {
      chainStep: cs,
      outputFile: out.partialPath(cs.step.id),
      blobs,
      executor: deps.executor,
      images: deps.images,
      runId: replayId,
      signal,
      warn: (m) => warnings.push(m),
    };
    const prepared =
      handler?.prepare !== undefined && !isAborted(signal) ? handler.prepare(handlerContext) : undefined;
    // An object, not a let: the flag is set inside runHandler, after this function's checks.
    const preparedRan = { yes: false };
    const runHandler = (h: StepHandler, inputs: ReplayInput[]): Promise<HandlerOutcome> => {
      if (prepared === undefined) return h.replay({ ...handlerContext, inputs });
      preparedRan.yes = true;
      return prepared.replay(inputs);
    };
    try {
      return await replayReadyStep(cs, await parentsReady, {
        provisional,
        handler,
        warnings,
        partial: handlerContext.outputFile,
        runHandler,
      });
    } finally {
      // A step that ends before its handler runs (inputs lost, interrupted) removes what it prepared.
      if (!preparedRan.yes) prepared?.discard();
    }
  }

  async function replayReadyStep(
    cs: ChainStep,
    parents: StepResult[],
    context: {
      provisional: Map<string, Payload> | undefined;
      handler: StepHandler | undefined;
      warnings: string[];
      partial: string;
      runHandler: (handler: StepHandler, inputs: ReplayInput[]) => Promise<HandlerOutcome>;
    },
  ): Promise<StepResult | "redo"> {
    const { provisional, handler, warnings, partial, runHandler } = context;
    const { step, target } = cs;
    const t0 = performance.now();
    const row: ManifestStep = {
      step_id: step.id,
      step_type: step.stepType,
      input_hash: step.inputHash,
      output_hash_live: target.contentHash,
      output_hash_replayed: null,
      ok: false,
      reason: null,
      status: "failed",
      method: step.method,
      target_artifact_id: target.id,
      input_hash_replayed: null,
      inputs: [],
      divergence: null,
      inherited_from: [],
      env_hash: step.envHash,
      environment: cs.environment.kind,
      image: null,
      image_drift: null,
      trace_id: step.traceId,
      recorded_started_at: step.startedAt?.toISOString() ?? step.startedAtText,
      started_at: null,
      finished_at: null,
      duration_ms: 0,
      size_live: target.sizeBytes,
      size_replayed: null,
      payload: null,
      diff: null,
      triage: null,
      warnings,
    };
    let diffSummary: string | undefined;
    /** When the step's own work ended: a --diff made afterwards is not the step's time. */
    let ended: { at: number; date: Date } | undefined;
    const finish = (replayed: Payload | null): StepResult => {
      row.duration_ms = Math.round((ended?.at ?? performance.now()) - t0);
      if (row.started_at !== null) row.finished_at = (ended?.date ?? new Date()).toISOString();
      reporter.stepFinished?.(row, diffSummary === undefined ? undefined : { diffSummary });
      progress?.add(row);
      return { row, replayed };
    };
    if (signal.aborted) {
      row.status = "interrupted";
      row.reason = "not run: the replay was interrupted";
      return finish(null);
    }
    row.started_at = new Date().toISOString();
    reporter.stepStarted?.(cs);

    // Inputs: upstream steps' replayed bytes where there are some, else the recorded blob.
    const parentByTarget = new Map<string, StepResult>();
    for (const [artifactId, r] of scheduler.upstreamResults ?? []) {
      parentByTarget.set(artifactId, {
        row: r.row,
        replayed: r.replayed === null ? null : { ...r.replayed, origin: "replayed" },
      });
    }
    for (const p of parents) parentByTarget.set(p.row.target_artifact_id, p);
    const inputs: ReplayInput[] = [];
    const manifestInputs: ManifestInput[] = [];
    for (const input of cs.inputs) {
      const parent = parentByTarget.get(input.artifact.id);
      const unchecked = provisional?.get(input.artifact.id);
      let payload: Payload | string;
      if (unchecked !== undefined) {
        payload = unchecked;
      } else if (parent?.replayed) {
        payload = parent.replayed;
      } else {
        if (parent !== undefined) {
          warnings.push(
            `input ${input.artifact.id}: upstream step ${parent.row.step_id} was not replayed (${parent.row.status}); its recorded payload is used as a frozen input`,
          );
        }
        payload = await recordedPayload(input.artifact.id, input.artifact.contentHash);
      }
      if (typeof payload === "string") {
        row.reason = payload;
        return finish(null);
      }
      inputs.push({
        name: input.name,
        artifactId: input.artifact.id,
        contentHash: payload.contentHash,
        size: payload.size,
        file: payload.file,
      });
      manifestInputs.push({
        name: input.name,
        artifact_id: input.artifact.id,
        content_hash: payload.contentHash,
        origin: payload.origin,
      });
    }
    row.inputs = manifestInputs;
    consumed.set(step.id, inputs);
    row.input_hash_replayed = inputHashOf(
      inputs.map((i) => ({ name: i.name, contentHash: i.contentHash })),
      cs.multiInput,
    );

    if (handler === undefined) {
      row.status = "unreplayable";
      row.reason = `step type "${step.stepType}" has no known semantics: replay-runner has no handler for it`;
      return finish(null);
    }

    let outcome: HandlerOutcome;
    try {
      outcome = await runHandler(handler, inputs);
    } catch (error) {
      await removeQuietly(partial);
      outcome = {
        kind: "failed",
        reason: error instanceof ReplayError ? error.message : `internal error: ${messageOf(error)}`,
      };
    }
    if (provisional !== undefined) {
      // The same checks the frozen parents run (VerifiedBlobs: each blob is hashed once).
      const checks = await Promise.all([...provisional.values()].map((p) => blobs.check(p.contentHash)));
      if (checks.some((c) => c.state !== "intact")) {
        await removeQuietly(partial);
        return "redo";
      }
    }
    // Re-read: the signal may have fired while the handler ran.
    if (isAborted(signal) && outcome.kind !== "replayed") {
      await removeQuietly(partial);
      row.status = "interrupted";
      row.reason = "interrupted while running";
      return finish(null);
    }
    if (outcome.kind === "unreplayable") {
      row.status = "unreplayable";
      row.reason = outcome.reason;
      return finish(null);
    }
    if (outcome.kind === "failed") {
      await removeQuietly(partial);
      row.reason = outcome.reason;
      return finish(null);
    }

    let file = outcome.file;
    if (file === partial) {
      file = await out.promote(partial, target.id);
      row.payload = out.relative(file);
    }
    row.output_hash_replayed = outcome.contentHash;
    row.size_replayed = outcome.size;
    if (outcome.imageId !== undefined)
      row.image = {
        ref: outcome.imageRef ?? outcome.imageId,
        id: outcome.imageId,
        digest: outcome.imageDigest ?? null,
        source: outcome.imageSource ?? "local",
      };

    const outputMatches = isContentHash(target.contentHash) && outcome.contentHash === target.contentHash;
    const hasInputs = cs.inputs.length > 0;
    const inputsMatch = !hasInputs || (step.inputHash !== null && step.inputHash === row.input_hash_replayed);
    row.ok = outputMatches && inputsMatch;
    // A frozen input's check is a verification, not a reproduction: nothing ran.
    row.status = row.ok ? (handler.mode === "frozen" ? "verified" : "reproduced") : "mismatch";
    if (!isContentHash(target.contentHash)) {
      row.reason = `the registry's content_hash "${target.contentHash}" for ${target.id} is not a sha256: hash: nothing to compare with`;
    } else if (!outputMatches) {
      row.reason =
        step.stepType === "ingest"
          ? `frozen blob is corrupted: its bytes hash to ${outcome.contentHash}, the registry records ${target.contentHash}`
          : `replayed output hashes to ${outcome.contentHash}, the registry records ${target.contentHash}`;
    } else if (!inputsMatch) {
      row.reason =
        step.inputHash === null
          ? "output is identical, but the step has no recorded input_hash: nothing proves it consumed these inputs"
          : `output is identical, but the inputs hash to ${row.input_hash_replayed ?? "null"} while input_hash records ${step.inputHash}`;
    }
    if (!row.ok && scheduler.diff && !outputMatches && step.stepType !== "ingest") {
      ended = { at: performance.now(), date: new Date() };
      const live = await blobs.check(target.contentHash).catch(() => null);
      if (live?.state === "intact") {
        // Loaded only here: most replays never diff. The verdict above is final; the diff
        // only adds the row's `diff` and warnings (src/diagnose/step-diff.ts).
        const { explainMismatch } = await import("../diagnose/index.js");
        const explained = await explainMismatch(
          deps.differ,
          {
            runId: replayId,
            stepId: step.id,
            label: target.id,
            recordedFile: blobs.pathFor(target.contentHash),
            replayedFile: file,
            scratchFile: out.partialPath(`${step.id}.diff`),
            signal,
          },
          out,
          step.id,
        );
        row.diff = explained.diff;
        warnings.push(...explained.warnings);
        diffSummary = explained.diff?.explanation;
      } else {
        warnings.push("diff: the live payload's blob is not available to compare with");
      }
    }
    return finish({ file, contentHash: outcome.contentHash, size: outcome.size, origin: "replayed" });
  }

  const rows: ManifestStep[] = [];
  for (const cs of executed) {
    const result = await results.get(cs.step.id);
    if (result === undefined) continue;
    rows.push(result.row);
  }
  return { rows, consumed };
}
