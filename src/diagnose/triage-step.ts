/**
 * Triage of one step: replays it again, in fresh containers, on the inputs and in the image the
 * main replay used (nothing is rebuilt or re-fetched), `repeat` times under identical conditions
 * and once per variation (variations.ts), hashes each output and judges (triage-verdict.ts).
 * The main replay's row is not changed, only given its `triage` member by the caller.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pLimit from "p-limit";
import type { BlobStore } from "../blobs/index.js";
import type { ChainStep } from "../chain/types.js";
import { messageOf } from "../errors/index.js";
import { invokeContainerStep, parseContainerParameters, type ReplayInput } from "../handlers/index.js";
import type { ImageResolver } from "../images/types.js";
import type { StepExecutor, VariationSupport } from "../runner/types.js";
import { findFaketime } from "./fake-clock.js";
import { judge, type RecordChecks } from "./triage-verdict.js";
import type { StepTriage, TriageRun } from "./triage-types.js";
import { clockProblem, drawShiftDays, planRuns, type PlannedRun } from "./variations.js";

export interface TriageDeps {
  blobs: BlobStore;
  executor: StepExecutor;
  runId: string;
  signal: AbortSignal;
  /** Runs of one step at once. */
  jobs: number;
  /** A folder for the runs' outputs (removed after each is hashed). */
  scratchParent: string;
}

/** What the main replay gave for the step. */
export interface TriageTarget {
  chainStep: ChainStep;
  inputs: readonly ReplayInput[];
  image: { ref: string; id: string };
  recorded: string;
  replayed: string;
  inputHash: string | null;
  inputHashReplayed: string | null;
  /** How long the main replay ran it: bounds each triage run. */
  durationMs: number;
  /** The step reproduced (--triage=all): findings are latent. */
  latent: boolean;
  /** The frozen instant when the step never had SOURCE_DATE_EPOCH (whole seconds). */
  fallbackEpoch: number;
  history: Pick<RecordChecks, "recordedImage" | "lastReproduced">;
}

const NO_SUPPORT: VariationSupport = {
  readOnlyFiles: "this executor applies no host-side variation",
  inOrder: "this executor applies no host-side variation",
};
/** A triage run may take this many times the main replay's duration (at least MIN_RUN_S). */
const RUN_TIME_FACTOR = 10;
const MIN_RUN_S = 60;

/** The image the main replay ran the step in: triage never resolves, pulls or builds again. */
function fixedImage(image: { ref: string; id: string; digest?: string | null | undefined }): ImageResolver {
  return {
    resolve: () =>
      Promise.resolve({
        ref: image.ref,
        imageId: image.id,
        digest: image.digest ?? null,
        source: "local",
        warnings: [],
        seconds: 0,
      }),
  };
}

function checksOf(target: TriageTarget, codeHash: string): RecordChecks {
  const { chainStep, inputHash, inputHashReplayed } = target;
  return {
    inputs:
      chainStep.inputs.length === 0
        ? "none"
        : inputHash === null
          ? "not-recorded"
          : inputHash === inputHashReplayed
            ? "matched"
            : "differ",
    codeHash,
    recordedImage: target.history.recordedImage,
    replayedImage: target.image.id,
    lastReproduced: target.history.lastReproduced,
  };
}

/** Undefined when the step is not a container step or triage was interrupted. */
export async function triageStep(
  deps: TriageDeps,
  target: TriageTarget,
  options: { repeat: number },
): Promise<StepTriage | undefined> {
  const { step, environment } = target.chainStep;
  const parsed = parseContainerParameters(step.parameters);
  if (!parsed.ok) return undefined;
  const timeoutS = Math.min(
    parsed.value.timeoutS,
    Math.max(MIN_RUN_S, (RUN_TIME_FACTOR * target.durationMs) / 1000),
  );
  const parameters = { ...parsed.value, timeoutS };
  const support = deps.executor.variationSupport?.() ?? NO_SUPPORT;
  const faketime = findFaketime();
  const epoch = step.sourceDateEpoch ?? target.fallbackEpoch;
  let clockWhy = clockProblem(support, faketime);
  const shiftDays = drawShiftDays();
  const plan = (frozen: boolean) =>
    planRuns({
      repeat: options.repeat,
      support,
      faketime,
      frozenAt: frozen ? epoch : undefined,
      clockWhy,
      shiftDays,
      cpus: hostCpus(),
      hostArch: process.arch,
    });

  const scratch = await mkdtemp(path.join(deps.scratchParent, ".triage-"));
  try {
    let counter = 0;
    const runOne = async (planned: PlannedRun): Promise<TriageRun> => {
      const outputFile = path.join(scratch, `run-${++counter}`);
      try {
        const invoked = await invokeContainerStep(
          { blobs: deps.blobs, executor: deps.executor, images: fixedImage(target.image) },
          {
            stepId: step.id,
            runId: deps.runId,
            parameters,
            inputs: [...target.inputs],
            sourceDateEpoch: step.sourceDateEpoch,
            environment: environment.kind === "pinned" ? environment.environment : null,
            outputFile,
            signal: deps.signal,
            variation: planned.knobs,
          },
        );
        const base = { variation: planned.variation, detail: planned.detail };
        if (invoked.kind === "refused") return { ...base, output_hash: null, error: invoked.reason };
        const { result } = invoked;
        if (result.status === "failed") return { ...base, output_hash: null, error: result.reason };
        return { ...base, output_hash: result.contentHash };
      } catch (error) {
        return {
          variation: planned.variation,
          detail: planned.detail,
          output_hash: null,
          error: messageOf(error),
        };
      } finally {
        await rm(outputFile, { force: true });
      }
    };

    let frozen = clockWhy === undefined;
    let { runs: planned, notApplied } = plan(frozen);
    const limit = pLimit(Math.max(1, deps.jobs));
    const runAll = (list: readonly PlannedRun[]) => Promise.all(list.map((p) => limit(() => runOne(p))));
    // The first repeats (as many as run at once) tell whether the step survives the frozen clock.
    const batch = Math.max(1, Math.min(deps.jobs, options.repeat));
    let first = await runAll(planned.slice(0, batch));
    if (aborted(deps.signal)) return undefined;
    if (frozen && first.every((r) => r.output_hash === null)) {
      // The step fails under the frozen clock (libfaketime breaks Python's time.sleep, see
      // fake-clock.ts): every run goes back to the real clock, and the clock is not varied.
      clockWhy = `the step fails under libfaketime's frozen clock (${first[0]?.error ?? "no output"})`;
      frozen = false;
      ({ runs: planned, notApplied } = plan(false));
      first = await runAll(planned.slice(0, batch));
    }
    const others = await runAll(planned.slice(batch));
    if (aborted(deps.signal)) return undefined;
    const runs: TriageRun[] = [
      {
        variation: "replay",
        detail: frozen ? "the main replay, on the real clock" : "the main replay",
        output_hash: target.replayed,
      },
      ...first,
      ...others,
    ];
    const judgement = judge({
      recorded: target.recorded,
      replayed: target.replayed,
      runs,
      clockFrozen: frozen,
      latent: target.latent,
      checks: checksOf(target, parameters.codeHash),
    });
    return {
      ...judgement,
      latent: target.latent,
      runs,
      not_applied: notApplied,
      clock: frozen
        ? `every repeat and variation but the clock ran with the wall clock frozen at ${new Date(epoch * 1000).toISOString()} (libfaketime)`
        : `every run used the real clock: ${clockWhy ?? "it was not frozen"}; a value stamped with the time may differ between repeats`,
      explanation: judgement.explanation,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Read through a function: the flag changes while runs are awaited. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function hostCpus(): number {
  return Math.max(1, os.availableParallelism());
}
