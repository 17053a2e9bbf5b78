export { handlerFor, isHandled } from "./handler-registry.js";
export type {
  HandlerContext,
  HandlerMode,
  HandlerOutcome,
  PrepareContext,
  PreparedReplay,
  ReplayInput,
  StepHandler,
} from "./handler.js";
export { citationBytes } from "./cite.js";
export { copyHashed } from "./copy-hashed.js";
export {
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_S,
  parseContainerParameters,
  plainFileName,
} from "./container-parameters.js";
export type { ContainerParameters, ParsedParameters } from "./container-parameters.js";
export { MAX_OUTPUT_BYTES, fileSource, invokeContainerStep, prepareContainerStep } from "./container-step.js";
export type { ContainerStepInvocation, InvocationResult, PreparedInvocation } from "./container-step.js";
export { SANDBOX_PATH, stepEnvironment } from "./step-environment.js";
