export { handlerFor, isHandled } from "./handler-registry.js";
export type { HandlerContext, HandlerMode, HandlerOutcome, ReplayInput, StepHandler } from "./handler.js";
