/**
 * Who runs a served replay: one identity per serve process. The random id tells this process
 * from an earlier one that had the same pid (pid 1 in a container restarts as pid 1).
 */
import { randomBytes } from "node:crypto";
import os from "node:os";

export interface WorkerIdentity {
  id: string;
  host: string;
  pid: number;
}

export function newWorkerIdentity(): WorkerIdentity {
  return { id: `w-${randomBytes(6).toString("hex")}`, host: os.hostname(), pid: process.pid };
}
