export { ReplayError, isReplayError, messageOf } from "./replay-error.js";
export type { ReplayErrorCode, ReplayErrorOptions } from "./replay-error.js";
export { EXIT, EXIT_CODES_HELP, exitCodeFor } from "./exit-codes.js";
export { interceptCrashes, interceptedCrash } from "./crash-interceptor.js";
export { stackOf } from "./error-stack.js";
export type { CrashInterceptor } from "./crash-interceptor.js";
