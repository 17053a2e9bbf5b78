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
