export { acquirePidLock, liveLockHolder, pidAlive } from "./pid-lock-file.js";
export type { LockHolder, PidLock } from "./pid-lock-file.js";
