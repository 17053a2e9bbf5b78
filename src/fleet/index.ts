export { newBatchId, runBatch } from "./run-batch.js";
export type { BatchDeps, BatchOptions, BatchReporter, BatchResult } from "./run-batch.js";
export { BATCH_VERSION, batchExitCode, buildBatchReport } from "./batch-report.js";
export type { BatchOrigin, BatchReport, BatchStatus, BatchStep, BatchTarget } from "./batch-report.js";
export { planBatch } from "./batch-plan.js";
export type { BatchPlan, BrokenTarget, LeftOutTarget, PlannedTarget } from "./batch-plan.js";
export { describeSelection, sampleIds, selectTargets } from "./target-selection.js";
export type { BatchSelection, TargetSelection } from "./target-selection.js";
export {
  failBatchRecord,
  finishBatchRecord,
  interruptOrphanedBatches,
  listBatches,
  startBatchRecord,
} from "./batch-record.js";
export type { BatchRow, BatchTrigger } from "./batch-record.js";
export { enqueueBatch } from "./enqueue-batch.js";
export type { EnqueueDeps, EnqueueOptions, EnqueuedBatch } from "./enqueue-batch.js";
export { PgBossStepQueue, STEP_JOB_QUEUE, FINALIZE_JOB_QUEUE } from "./step-queue.js";
export type { StepJob, StepJobQueue } from "./step-queue.js";
export { StepWorker } from "./step-worker.js";
export type { StepJobOutcome, StepWorkerDeps } from "./step-worker.js";
export { finalizeBatch } from "./finalize-batch.js";
export { batchEnded, batchProgress } from "./batch-progress.js";
export { cancelBatch, endedState } from "./cancel-batch.js";
export type { BatchCancel } from "./cancel-batch.js";
export type { BatchProgress } from "./batch-progress.js";
