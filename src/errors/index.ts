export { ReplayError, isReplayError, isReplayErrorCode, messageOf } from "./replay-error.js";
export type { ReplayErrorCode, ReplayErrorOptions } from "./replay-error.js";
export { EXIT, EXIT_CODES_HELP, EXIT_CODE_MEANINGS, exitCodeFor, exitCodesHelp } from "./exit-codes.js";
export type { ExitCode } from "./exit-codes.js";
export { interceptCrashes, interceptedCrash } from "./crash-interceptor.js";
export { stackOf } from "./error-stack.js";
export type { CrashInterceptor } from "./crash-interceptor.js";
