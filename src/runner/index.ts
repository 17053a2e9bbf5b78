export type {
  ContainerStepRequest,
  ContainerStepResult,
  PayloadSource,
  StepExecutor,
  StepFailureKind,
  StepVariation,
  VariationSupport,
} from "./types.js";
export { DockerStepExecutor, checkRequestNames } from "./container-step-runner.js";
export type { DockerStepExecutorOptions } from "./container-step-runner.js";
export { connectDockerEngine, DOCKER_UNAVAILABLE_HINT } from "./docker-engine.js";
export type { DockerEngineOptions } from "./docker-engine.js";
export { EngineRequestError } from "./engine-port.js";
export type {
  DockerEngine,
  ImageBuildOptions,
  ImageBuildOutcome,
  ImageInfo,
  LabelledResource,
  RegistryAuthConfig,
  RegistryTransferOptions,
} from "./engine-port.js";
export {
  containerSpec,
  DEFAULT_CPUS,
  PIDS_LIMIT,
  STEP_USER,
  VARIATION_MOUNT_ROOT,
  VariationRefused,
} from "./container-spec.js";
export type { ContainerCreateBody, ContainerSpecInput } from "./container-spec.js";
export { bytesSource, isPlainFileName } from "./payload-source.js";
export { packFiles } from "./pack-files.js";
export { OutputRuleError } from "./output-file.js";
export type { ExtractOptions, ExtractedOutput } from "./output-file.js";
export { LABEL, labelFilter, resourceLabels } from "./labels.js";
export { reapStale, removeRunResources } from "./reaper.js";
export { StagingRoot, reapStaleStaging, tmpfsStagingBase } from "./staging-root.js";
export { LINK_FROM_BYTES } from "./host-transport.js";
export type { BindMount, StepTransport } from "./step-transport.js";
export type { ReapResult } from "./reaper.js";
export { installInterruptCleanup } from "./interrupt-cleanup.js";
export type { InterruptCleanupOptions } from "./interrupt-cleanup.js";
