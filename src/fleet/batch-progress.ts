/** How a batch stands (`verify --status`, GET /api/verifications/:id): its row and its steps' counts. */
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";

export interface BatchProgress {
  id: string;
  status: "queued" | "running" | "finished" | "interrupted" | "failed";
  verdict: "reproduced" | "not_reproduced" | null;
  trigger: string;
  selection: string;
  out_dir: string;
  /** batch.json, once the batch is finished. */
  report: string | null;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  summary: Record<string, number> | null;
  /** Queued batches: steps by state, and who runs which. */
  steps: { total: number; waiting: number; queued: number; running: number; done: number } | null;
  running: { step_id: string; worker_host: string | null; worker_pid: number | null; attempts: number }[];
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

export async function batchProgress(db: SqlQueryable, batchId: string): Promise<BatchProgress> {
  const rows = await db.query<{
    id: string;
    status: BatchProgress["status"];
    verdict: BatchProgress["verdict"];
    trigger: string;
    selection: string;
    out_dir: string;
    started_at: Date | string;
    finished_at: Date | string | null;
    error: string | null;
    summary: Record<string, number> | null;
    queued: boolean;
  }>(
    `SELECT id, status, verdict, trigger, selection, out_dir, started_at, finished_at, error, summary,
       plan IS NOT NULL AS queued
     FROM replay_runner.verifications WHERE id = $1`,
    [batchId],
  );
  const row = rows[0];
  if (row === undefined)
    throw new ReplayError("NOT_FOUND", `No batch ${JSON.stringify(batchId)} in the registry.`, {
      hint: "`replay-runner verify --queue` prints the batch id; the /verifications page lists them.",
      details: { batch_id: batchId },
    });
  let steps: BatchProgress["steps"] = null;
  let running: BatchProgress["running"] = [];
  if (row.queued) {
    const counts = await db.query<{ status: string; n: string | number }>(
      `SELECT status, count(*) AS n FROM replay_runner.batch_steps WHERE batch_id = $1 GROUP BY status`,
      [batchId],
    );
    const of = (s: string) => Number(counts.find((c) => c.status === s)?.n ?? 0);
    steps = {
      total: counts.reduce((sum, c) => sum + Number(c.n), 0),
      waiting: of("waiting"),
      queued: of("queued"),
      running: of("running"),
      done: of("done"),
    };
    running = await db.query(
      `SELECT step_id, worker_host, worker_pid, attempts FROM replay_runner.batch_steps
       WHERE batch_id = $1 AND status = 'running' ORDER BY position`,
      [batchId],
    );
  }
  return {
    id: row.id,
    status: row.status,
    verdict: row.verdict,
    trigger: row.trigger,
    selection: row.selection,
    out_dir: row.out_dir,
    report: row.status === "finished" ? `${row.out_dir}/batch.json` : null,
    started_at: iso(row.started_at) ?? "",
    finished_at: iso(row.finished_at),
    error: row.error,
    summary: row.summary,
    steps,
    running,
  };
}

/** True once the batch can change no more. */
export function batchEnded(progress: BatchProgress): boolean {
  return progress.status === "finished" || progress.status === "interrupted" || progress.status === "failed";
}
