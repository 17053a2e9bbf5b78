export { exitCodeOf, newReplayId, runReplay } from "./run-replay.js";
export type { ReplayDeps, ReplayOptions } from "./run-replay.js";
export { MANIFEST_VERSION, summarise } from "./manifest.js";
export type {
  FrozenInput,
  Manifest,
  ManifestInput,
  ManifestStep,
  ReplaySummary,
  StepStatus,
} from "./manifest.js";
export type { ReplayReporter } from "./reporter.js";
export {
  ProgressWriter,
  failReplayRecord,
  finishReplayRecord,
  startReplayRecord,
  statusOf,
} from "./replay-record.js";
export type { ReplayStatus } from "./replay-record.js";
export { OutDir, safeFileName } from "./out-dir.js";
export { dryRunReplay } from "./dry-run.js";
export type { DryRunPlan, DryRunStep } from "./dry-run.js";
