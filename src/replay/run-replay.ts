/**
 * The replay: walk the chain, verify what is frozen, run every step through its handler in
 * topological order (independent branches concurrently), each step consuming the replayed
 * outputs of its upstream steps, and write the manifest.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { BlobStore } from "../blobs/index.js";
import type { PayloadDiffer } from "../diagnose/index.js";
import type { SqlClient } from "../db/index.js";
import { diagnoseReplay, type TriageScope } from "../diagnose/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import { handlerFor } from "../handlers/index.js";
import type { ImageResolver } from "../images/types.js";
import type { StepExecutor } from "../runner/types.js";
import { recordHistory } from "../history/index.js";
import { buildManifest } from "./build-manifest.js";
import { markDivergence } from "./divergence.js";
import type { Manifest } from "./manifest.js";
import { OutDir } from "./out-dir.js";
import { integrityProblems, planReplay } from "./plan-replay.js";
import { interruptOrphanedReplays, localJudge } from "./dead-owners.js";
import { historyEntryOf } from "./replay-history.js";
import { ProgressWriter, finishReplayRecord, startReplayRecord } from "./replay-record.js";
import type { ReplayReporter } from "./reporter.js";
import { replaySteps } from "./step-scheduler.js";
import { VerifiedBlobs } from "./verified-blobs.js";

export interface ReplayDeps {
  db: SqlClient;
  blobRoot: string;
  executor: StepExecutor;
  images: ImageResolver;
  toolVersion: string;
  reporter?: ReplayReporter | undefined;
  /** Explains mismatches for --diff (diffoscope in the sandbox); undefined: the built-in diff. */
  differ?: PayloadDiffer | undefined;
  /**
   * Checks the engine (and starts sweeping what crashed runs left). Started with the walk;
   * awaited before anything runs when some step needs containers: exit 3 early if the engine
   * is away, and no failure at all for a chain that needs no engine.
   */
  preflight?: (() => Promise<void>) | undefined;
  /** Signs the replay's manifest.json text, written with it (src/evidence: `rerun --sign`, REPLAY_SIGNING_KEY). */
  attest?: ((written: WrittenManifest) => Promise<void>) | undefined;
}

/** A manifest as it was written, and the folder to write evidence about it in. */
export interface WrittenManifest {
  manifest: Manifest;
  /** The exact text of manifest.json. */
  manifestText: string;
  out: OutDir;
}

export interface ReplayOptions {
  artifactId: string;
  outDir: string;
  from?: string | undefined;
  strict?: boolean | undefined;
  diff?: boolean | undefined;
  jobs?: number | undefined;
  /**
   * Replace a previous replay in `outDir` (its manifest, artifacts/ and diffs/ are removed before
   * anything runs); without it a folder that is not empty is refused (out-dir.ts).
   */
  force?: boolean | undefined;
  /** Triage the origin mismatches ("origins"), or also the steps that reproduced ("all"). */
  triage?: TriageScope | undefined;
  /** Repeats per triaged step (default 2). */
  repeat?: number | undefined;
  /** An id created beforehand (the API queues replays); otherwise a new one. */
  replayId?: string | undefined;
  signal?: AbortSignal | undefined;
}

export function newReplayId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  return `r-${stamp}-${randomBytes(3).toString("hex")}`;
}

export async function runReplay(deps: ReplayDeps, options: ReplayOptions): Promise<Manifest> {
  const startedAt = new Date();
  const replayId = options.replayId ?? newReplayId(startedAt);
  const jobs = options.jobs ?? os.availableParallelism();
  const signal = options.signal ?? new AbortController().signal;
  const reporter = deps.reporter ?? {};
  const blobs: BlobStore = new VerifiedBlobs(deps.blobRoot);
  const triage = options.triage ?? "off";
  const repeat = options.repeat ?? 2;

  // The engine check overlaps the walk; only a chain with container steps waits for its answer.
  const preflight = deps.preflight?.();
  preflight?.catch(() => undefined);
  await blobs.checkRoot();
  const { chain, executed, frozen, willRun } = await planReplay(deps.db, options);

  if (options.strict === true) {
    const problems = await integrityProblems({ chain, executed, frozen, willRun }, blobs);
    if (problems.length > 0) {
      throw new ReplayError(
        "INTEGRITY",
        `--strict: ${problems.length} frozen input(s) cannot be trusted; nothing was run.\n  ${problems.join("\n  ")}`,
        {
          hint: "Restore the blobs from a backup, or run without --strict to replay what still can be.",
          details: { problems },
        },
      );
    }
  }

  if (executed.some((cs) => handlerFor(cs.step.stepType)?.mode === "container")) {
    await preflight;
    await deps.executor.ready?.();
  }

  const out = await OutDir.acquire(options.outDir, replayId, { force: options.force });
  let record: AsyncDisposable | undefined;
  try {
    // A replay whose process died stays "running" until someone looks: the next replay does.
    await interruptOrphanedReplays(deps.db, localJudge(deps.db));
    record = await startReplayRecord(deps.db, {
      id: replayId,
      targetArtifactId: options.artifactId,
      options: {
        from: options.from ?? null,
        strict: options.strict === true,
        diff: options.diff === true,
        jobs,
        triage,
        repeat,
      },
      outDir: out.dir,
    });
    const progress = new ProgressWriter(deps.db, replayId);
    reporter.planned?.({ replayId, outDir: out.dir, chain, executed });
    const globalWarnings: string[] = [];
    const warn = (message: string) => {
      globalWarnings.push(message);
      reporter.warning?.(message);
    };
    for (const a of chain.unproducedArtifacts) {
      warn(`artifact ${a.id} has no producing step in the registry: taken as a frozen input`);
    }

    const { rows, consumed } = await replaySteps(
      {
        blobs,
        executor: deps.executor,
        images: deps.images,
        runId: replayId,
        signal,
        jobs,
        out,
        reporter,
        progress,
        diff: options.diff === true,
        differ: deps.differ,
      },
      executed,
      willRun,
    );
    // Progress is for watchers: a registry that stopped answering (a `serve` that holds the
    // embedded registry was killed) must not cost the verdict that the steps already gave.
    await progress.close().catch((error: unknown) => {
      warn(`the registry did not take this replay's progress: ${messageOf(error)}`);
    });
    // Finished steps' containers and staged folders are removed in the background; what could
    // not be removed is a warning of this replay, never part of a verdict.
    for (const problem of (await deps.executor.settled?.()) ?? []) warn(`clean-up: ${problem}`);
    const upstreamOf = new Map(executed.map((cs) => [cs.step.id, cs.upstreamStepIds.filter(willRun)]));
    const divergence = markDivergence(rows, upstreamOf);
    const triaged = await diagnoseReplay(
      {
        db: deps.db,
        blobs,
        executor: deps.executor,
        replayId,
        signal,
        jobs,
        scratchParent: out.dir,
        startedAt,
        warn,
        triaging: reporter.triaging?.bind(reporter),
      },
      { rows, steps: executed, consumed, triage, repeat },
    );
    const finishedAt = new Date();
    const manifest = buildManifest({
      replayId,
      toolVersion: deps.toolVersion,
      target: chain.target,
      registry: deps.db.description,
      options: {
        from: options.from ?? null,
        strict: options.strict === true,
        diff: options.diff === true,
        jobs,
        triage,
        repeat,
      },
      startedAt,
      finishedAt,
      interrupted: signal.aborted,
      rows,
      divergence,
      triaged,
      frozen: frozen.values(),
      warnings: globalWarnings,
    });
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    // A signed replay's attestation covers these exact bytes; it is written beside them at the
    // same time (two fsyncs at once cost about one), both before the replay is recorded finished.
    await Promise.all([
      out.writeText("manifest.json", manifestText),
      deps.attest?.({ manifest, manifestText, out }),
    ]);
    await finishReplayRecord(deps.db, manifest, exitCodeOf(manifest));
    const entry = historyEntryOf(manifest, "replay");
    if (entry !== null) await recordHistory(deps.db, [entry]);
    reporter.finished?.(manifest);
    return manifest;
  } finally {
    await record?.[Symbol.asyncDispose](); // its heartbeat
    await out.release();
  }
}

/** 0 only when every step reproduced; 1 otherwise (interruptions are the caller's: 130/143). */
export function exitCodeOf(manifest: Manifest): number {
  return manifest.status === "reproduced" ? 0 : 1;
}
