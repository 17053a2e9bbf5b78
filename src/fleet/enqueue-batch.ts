/**
 * `verify --queue` (and POST /api/verifications on PostgreSQL): plans the batch as `verify`
 * does, then stores it instead of running it: the batch's row (status queued, the plan's
 * targets and options), one row per distinct step, and a job for each step with nothing
 * upstream, all in one transaction. Workers (`replay-runner worker`, `serve`) do the rest.
 */
import path from "node:path";
import type { SqlClient } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import { makeFolders } from "../fs/index.js";
import { OutDir, VerifiedBlobs } from "../replay/index.js";
import { integrityProblemsOf } from "./batch-integrity.js";
import { planBatch } from "./batch-plan.js";
import type { BatchTrigger } from "./batch-record.js";
import { insertBatchSteps } from "./batch-steps.js";
import type { StepJobQueue } from "./step-queue.js";
import { describeSelection, selectTargets, type TargetSelection } from "./target-selection.js";
import type { QueuedBatchPlan } from "./queued-plan.js";

export interface EnqueueDeps {
  db: SqlClient;
  queue: StepJobQueue;
  blobRoot: string;
}

export interface EnqueueOptions {
  batchId: string;
  selection: TargetSelection;
  maxSteps?: number | undefined;
  /** The batch's folder: every worker must reach it at this path (batch-store.ts). */
  outDir: string;
  strict?: boolean | undefined;
  diff?: boolean | undefined;
  trigger?: BatchTrigger | undefined;
}

export interface EnqueuedBatch {
  batchId: string;
  outDir: string;
  targets: number;
  steps: number;
  /** Steps queued at once (nothing upstream of them in the batch). */
  runnable: number;
  leftOut: number;
  unreplayable: number;
}

export async function enqueueBatch(deps: EnqueueDeps, options: EnqueueOptions): Promise<EnqueuedBatch> {
  const { db } = deps;
  const blobs = new VerifiedBlobs(deps.blobRoot);
  await blobs.checkRoot();
  const ids = await selectTargets(db, options.selection);
  const plan = await planBatch(db, ids, options.maxSteps);
  if (options.strict === true) {
    const problems = await integrityProblemsOf(plan, blobs);
    if (problems.length > 0)
      throw new ReplayError(
        "INTEGRITY",
        `--strict: ${problems.length} frozen input(s) cannot be trusted; nothing was queued.\n  ${problems.join("\n  ")}`,
        { hint: "Restore the blobs from a backup, or queue without --strict.", details: { problems } },
      );
  }
  // The folder must be new to replays (or empty): taken and given back, as a replay's is.
  const outDir = path.resolve(options.outDir);
  await makeFolders(outDir, {
    what: "the batch's folder",
    hint: "Choose a folder every worker can write with --out.",
  });
  const out = await OutDir.acquire(outDir, options.batchId);
  await out.release();

  const stored: QueuedBatchPlan = {
    targets: plan.targets.map((t) => t.artifactId),
    left_out: plan.leftOut.map((t) => ({ artifact_id: t.artifactId, steps: t.steps })),
    unreplayable: plan.broken.map((t) => ({ artifact_id: t.artifactId, reason: t.reason })),
    options: {
      strict: options.strict === true,
      diff: options.diff === true,
      max_steps: options.maxSteps ?? null,
    },
  };
  const position = new Map(plan.steps.map((cs, i) => [cs.step.id, i]));
  const runnable = await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO replay_runner.verifications (id, trigger, selection, status, out_dir, plan)
       VALUES ($1, $2, $3, 'queued', $4, $5::jsonb)`,
      [
        options.batchId,
        options.trigger ?? "command",
        describeSelection(options.selection, options.maxSteps),
        outDir,
        JSON.stringify(stored),
      ],
    );
    const queued = await insertBatchSteps(
      tx,
      options.batchId,
      plan.steps.map((cs) => ({
        step_id: cs.step.id,
        position: position.get(cs.step.id) ?? 0,
        target_artifact_id: cs.target.id,
        upstream: cs.upstreamStepIds.filter((id) => position.has(id)),
        dependents: plan.dependents.get(cs.step.id) ?? 0,
      })),
    );
    for (const stepId of queued) await deps.queue.sendStep({ batchId: options.batchId, stepId }, tx);
    // Nothing to run (every target a frozen input): the finalizer writes the verdicts at once.
    if (plan.steps.length === 0) await deps.queue.sendFinalize(options.batchId, tx);
    return queued.length;
  });
  return {
    batchId: options.batchId,
    outDir,
    targets: plan.targets.length,
    steps: plan.steps.length,
    runnable,
    leftOut: plan.leftOut.length,
    unreplayable: plan.broken.length,
  };
}
