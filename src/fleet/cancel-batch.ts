/**
 * Cancelling a queued batch (`verify --cancel ID`, DELETE /api/verifications/:id): its row is
 * marked interrupted with the reason, in one conditional UPDATE, so a worker's next claim of
 * any of its steps finds nothing to run (claimStep takes a step only of a batch still queued)
 * and no finalize follows. A step already running is stopped by its worker at its next
 * heartbeat (heartbeatSteps returns it), unrecorded; the batch folder keeps what was replayed.
 */
import type { SqlQueryable } from "../db/index.js";
import { batchProgress, type BatchProgress } from "./batch-progress.js";

export type BatchCancel =
  /** It was queued, and is now interrupted. */
  | { outcome: "cancelled"; progress: BatchProgress }
  /** It had ended already (finished, interrupted or failed): its state stands. */
  | { outcome: "ended"; progress: BatchProgress }
  /** An in-process `verify` (or serve's embedded batch) runs it: only that process can stop it. */
  | { outcome: "in-process"; progress: BatchProgress; pid: number | null; host: string | null };

/** Cancels a queued batch; an unknown id throws NOT_FOUND (batchProgress). */
export async function cancelBatch(db: SqlQueryable, batchId: string, reason: string): Promise<BatchCancel> {
  // One statement: the update, and the row's owner as it was (the outer SELECT sees the row
  // before the update), for the answer when the batch was not queued.
  const rows = await db.query<{ cancelled: boolean; worker_pid: number | null; worker_host: string | null }>(
    `WITH cancelled AS (
       UPDATE replay_runner.verifications SET status = 'interrupted', error = $2, finished_at = now()
       WHERE id = $1 AND status = 'queued' RETURNING id)
     SELECT EXISTS (SELECT 1 FROM cancelled) AS cancelled, worker_pid, worker_host
     FROM replay_runner.verifications WHERE id = $1`,
    [batchId, reason],
  );
  const progress = await batchProgress(db, batchId);
  const row = rows[0];
  if (row?.cancelled === true) return { outcome: "cancelled", progress };
  if (progress.status !== "running") return { outcome: "ended", progress };
  return { outcome: "in-process", progress, pid: row?.worker_pid ?? null, host: row?.worker_host ?? null };
}

/** An ended batch's state in words, for the refusal to cancel it: "finished, not reproduced". */
export function endedState(progress: BatchProgress): string {
  return `${progress.status}${progress.verdict === null ? "" : `, ${progress.verdict.replace("_", " ")}`}`;
}
