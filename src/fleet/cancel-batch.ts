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
  const updated = await db.query(
    `UPDATE replay_runner.verifications SET status = 'interrupted', error = $2, finished_at = now()
     WHERE id = $1 AND status = 'queued' RETURNING id`,
    [batchId, reason],
  );
  const progress = await batchProgress(db, batchId);
  if (updated.length > 0) return { outcome: "cancelled", progress };
  if (progress.status !== "running") return { outcome: "ended", progress };
  const owners = await db.query<{ worker_pid: number | null; worker_host: string | null }>(
    `SELECT worker_pid, worker_host FROM replay_runner.verifications WHERE id = $1`,
    [batchId],
  );
  const owner = owners[0];
  return {
    outcome: "in-process",
    progress,
    pid: owner?.worker_pid ?? null,
    host: owner?.worker_host ?? null,
  };
}
