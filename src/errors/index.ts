export { ReplayError, isReplayError, isReplayErrorCode, messageOf } from "./replay-error.js";
export type { ReplayErrorCode, ReplayErrorOptions } from "./replay-error.js";
export { EXIT, EXIT_CODES_HELP, exitCodeFor } from "./exit-codes.js";
