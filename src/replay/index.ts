export { exitCodeOf, newReplayId, runReplay } from "./run-replay.js";
export type { ReplayDeps, ReplayOptions, WrittenManifest } from "./run-replay.js";
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
  OWNER_HEARTBEAT_MS,
  processOwner,
  startReplayRecord,
  statusOf,
  verdictOf,
} from "./replay-record.js";
export type { ReplayOwner, ReplayRecord, ReplayStatus, ReplayVerdict } from "./replay-record.js";
export {
  OWNER_STALE_SECONDS,
  STALE_HEARTBEAT_SQL,
  interruptOrphanedReplays,
  localJudge,
  ownerGone,
  runningReplayOwners,
} from "./dead-owners.js";
export type { InterruptedOrphan, OrphanRow, OwnerJudge } from "./dead-owners.js";
export { OutDir } from "./out-dir.js";
export type { OutDirOptions } from "./out-dir.js";
export { hashedFileName, safeFileName } from "./safe-file-name.js";
export { dryRunReplay } from "./dry-run.js";
export type { DryRunPlan, DryRunStep } from "./dry-run.js";
export { planFromChain } from "./plan-replay.js";
export type { ReplayPlan } from "./plan-replay.js";
export { replaySteps } from "./step-scheduler.js";
export type { SchedulerContext, ScheduledSteps, UpstreamResult } from "./step-scheduler.js";
export { buildManifest, plainOptions } from "./build-manifest.js";
export type { ManifestParts } from "./build-manifest.js";
export { markDivergence } from "./divergence.js";
export type { Divergence, DivergenceOrigin } from "./divergence.js";
export { VerifiedBlobs } from "./verified-blobs.js";
export { integrityProblems } from "./plan-replay.js";
export { historyEntryOf } from "./replay-history.js";
