/**
 * A batch: select the targets, plan the union of their chains, replay every distinct step once
 * through the scheduler `rerun` uses (src/replay/step-scheduler.ts), then cut each target's own
 * manifest out of the shared rows and write `<out>/batch.json`.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { SqlClient } from "../db/index.js";
import { diagnoseReplay, type PayloadDiffer } from "../diagnose/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import { handlerFor } from "../handlers/index.js";
import type { ImageResolver } from "../images/types.js";
import {
  OutDir,
  VerifiedBlobs,
  interruptOrphanedReplays,
  localJudge,
  replaySteps,
  type Manifest,
  type ReplayReporter,
} from "../replay/index.js";
import type { StepExecutor } from "../runner/types.js";
import { planBatch, type BatchPlan } from "./batch-plan.js";
import type { BatchReport } from "./batch-report.js";
import { writeBatchOutcome } from "./batch-outcome.js";
import {
  failBatchRecord,
  interruptOrphanedBatches,
  startBatchRecord,
  type BatchTrigger,
} from "./batch-record.js";
import { integrityProblemsOf } from "./batch-integrity.js";
import { describeSelection, selectTargets, type TargetSelection } from "./target-selection.js";

export interface BatchDeps {
  db: SqlClient;
  blobRoot: string;
  executor: StepExecutor;
  images: ImageResolver;
  toolVersion: string;
  reporter?: BatchReporter | undefined;
  differ?: PayloadDiffer | undefined;
  /** Checks the engine; awaited before anything runs when some step needs a container. */
  preflight?: (() => Promise<void>) | undefined;
}

/** Progress of a batch: the plan, then the scheduler's step events (as `rerun` reports them). */
export interface BatchReporter extends Omit<ReplayReporter, "planned" | "finished" | "triaging"> {
  batchPlanned?(info: { batchId: string; outDir: string; plan: BatchPlan }): void;
}

export interface BatchOptions {
  selection: TargetSelection;
  maxSteps?: number | undefined;
  outDir: string;
  strict?: boolean | undefined;
  diff?: boolean | undefined;
  jobs?: number | undefined;
  batchId?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Who started it (the /verifications page says): `verify`, or serve's --verify-every. */
  trigger?: BatchTrigger | undefined;
}

export interface BatchResult {
  report: BatchReport;
  manifests: Manifest[];
}

export function newBatchId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  return `v-${stamp}-${randomBytes(3).toString("hex")}`;
}

export async function runBatch(deps: BatchDeps, options: BatchOptions): Promise<BatchResult> {
  const startedAt = new Date();
  const batchId = options.batchId ?? newBatchId(startedAt);
  const jobs = options.jobs ?? os.availableParallelism();
  const signal = options.signal ?? new AbortController().signal;
  const reporter = deps.reporter ?? {};
  const blobs = new VerifiedBlobs(deps.blobRoot);
  const strict = options.strict === true;
  const diff = options.diff === true;

  const preflight = deps.preflight?.();
  preflight?.catch(() => undefined);
  await blobs.checkRoot();
  const ids = await selectTargets(deps.db, options.selection);
  const plan: BatchPlan = await planBatch(deps.db, ids, options.maxSteps);

  if (strict) {
    const problems = await integrityProblemsOf(plan, blobs);
    if (problems.length > 0) {
      throw new ReplayError(
        "INTEGRITY",
        `--strict: ${problems.length} frozen input(s) cannot be trusted; nothing was run.\n  ${problems.join("\n  ")}`,
        {
          hint: "Restore the blobs from a backup, or run without --strict to verify what still can be.",
          details: { problems },
        },
      );
    }
  }
  if (plan.steps.some((cs) => handlerFor(cs.step.stepType)?.mode === "container")) {
    await preflight;
    await deps.executor.ready?.();
  }

  // Batches (and replays) whose process is gone are marked interrupted, as a replay does.
  await interruptOrphanedReplays(deps.db, localJudge(deps.db));
  await interruptOrphanedBatches(deps.db, localJudge(deps.db));
  const out = await OutDir.acquire(options.outDir, batchId);
  let record: AsyncDisposable | undefined;
  try {
    record = await startBatchRecord(deps.db, {
      id: batchId,
      trigger: options.trigger ?? "command",
      selection: describeSelection(options.selection, options.maxSteps),
      outDir: out.dir,
    });
    reporter.batchPlanned?.({ batchId, outDir: out.dir, plan });
    const globalWarnings: string[] = [];
    const { rows, consumed } = await replaySteps(
      {
        blobs,
        executor: deps.executor,
        images: deps.images,
        runId: batchId,
        signal,
        jobs,
        out,
        reporter,
        diff,
        differ: deps.differ,
      },
      plan.steps,
      () => true,
    );
    for (const problem of (await deps.executor.settled?.()) ?? []) {
      globalWarnings.push(`clean-up: ${problem}`);
      reporter.warning?.(`clean-up: ${problem}`);
    }
    await diagnoseReplay(
      {
        db: deps.db,
        blobs,
        executor: deps.executor,
        replayId: batchId,
        signal,
        jobs,
        scratchParent: out.dir,
        startedAt,
        warn: (m) => {
          globalWarnings.push(m);
          reporter.warning?.(m);
        },
      },
      { rows, steps: plan.steps, consumed, triage: "off", repeat: 2 },
    );
    return await writeBatchOutcome({
      db: deps.db,
      out,
      batchId,
      toolVersion: deps.toolVersion,
      selection: describeSelection(options.selection, options.maxSteps),
      plan,
      rows,
      options: { strict, diff, jobs, maxSteps: options.maxSteps ?? null },
      startedAt,
      finishedAt: new Date(),
      interrupted: signal.aborted,
      warnings: globalWarnings,
    });
  } catch (error) {
    // The row says why; the error still goes to the caller (exit code, the server's log).
    if (record !== undefined)
      await failBatchRecord(deps.db, batchId, messageOf(error)).catch(() => undefined);
    throw error;
  } finally {
    await record?.[Symbol.asyncDispose](); // its heartbeat
    await out.release();
  }
}
