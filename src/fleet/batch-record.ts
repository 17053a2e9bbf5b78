/**
 * A batch's row in replay-runner's own schema (migration 7), for the /verifications page:
 * inserted running once the output folder is taken, then finished with the report's summary,
 * or failed with the reason.
 */
import { z } from "zod";
import type { SqlQueryable } from "../db/index.js";
import {
  OWNER_HEARTBEAT_MS,
  STALE_HEARTBEAT_SQL,
  ownerGone,
  processOwner,
  type OwnerJudge,
} from "../replay/index.js";
import type { BatchReport } from "./batch-report.js";

export type BatchTrigger = "command" | "schedule";

/**
 * Inserts the batch's row as running, owned by this process; disposing it stops the heartbeat
 * that tells other processes this one is alive (see interruptOrphanedBatches).
 */
export async function startBatchRecord(
  db: SqlQueryable,
  batch: { id: string; trigger: BatchTrigger; selection: string; outDir: string },
  heartbeatMs = OWNER_HEARTBEAT_MS,
): Promise<AsyncDisposable> {
  const owner = processOwner();
  await db.query(
    `INSERT INTO replay_runner.verifications (id, trigger, selection, status, out_dir,
       worker_id, worker_host, worker_pid, heartbeat_at)
     VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, now())`,
    [batch.id, batch.trigger, batch.selection, batch.outDir, owner.id, owner.host, owner.pid],
  );
  const timer = setInterval(() => {
    db.query(
      `UPDATE replay_runner.verifications SET heartbeat_at = now() WHERE id = $1 AND status = 'running'`,
      [batch.id],
    ).catch(() => undefined); // a missed beat only matters after many; the batch goes on
  }, heartbeatMs);
  timer.unref();
  return {
    [Symbol.asyncDispose]() {
      clearInterval(timer);
      return Promise.resolve();
    },
  };
}

/**
 * Marks interrupted every batch left running by a process that is gone, judged as replays are
 * (replay/dead-owners.ts); returns the ids and reasons.
 */
export async function interruptOrphanedBatches(
  db: SqlQueryable,
  judge: OwnerJudge,
): Promise<{ batchId: string; reason: string }[]> {
  const rows = await db.query<{
    id: string;
    worker_id: string | null;
    worker_host: string | null;
    worker_pid: number | null;
    stale: boolean;
  }>(
    `SELECT id, worker_id, worker_host, worker_pid,
       ${STALE_HEARTBEAT_SQL}
     FROM replay_runner.verifications WHERE status = 'running'`,
    [judge.staleSeconds],
  );
  const marked: { batchId: string; reason: string }[] = [];
  for (const row of rows) {
    const reason = ownerGone({ ...row, submitted_via: null }, judge);
    if (reason === undefined) continue;
    // Only if nobody moved the row since (its process finishing after all, another judge).
    const updated = await db.query(
      `UPDATE replay_runner.verifications SET status = 'interrupted', error = $3, finished_at = now()
       WHERE id = $1 AND status = 'running' AND worker_id IS NOT DISTINCT FROM $2 RETURNING id`,
      [row.id, row.worker_id, `interrupted: ${reason}`],
    );
    if (updated.length > 0) marked.push({ batchId: row.id, reason });
  }
  return marked;
}

export async function finishBatchRecord(db: SqlQueryable, report: BatchReport): Promise<void> {
  await db.query(
    `UPDATE replay_runner.verifications SET status = $2, verdict = $3, summary = $4, finished_at = now() WHERE id = $1`,
    [
      report.batch_id,
      report.status === "interrupted" ? "interrupted" : "finished",
      report.status === "interrupted" ? null : report.status,
      JSON.stringify(report.summary),
    ],
  );
}

export async function failBatchRecord(db: SqlQueryable, id: string, message: string): Promise<void> {
  await db.query(
    `UPDATE replay_runner.verifications SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`,
    [id, message],
  );
}

const rowSchema = z.object({
  id: z.string(),
  trigger: z.enum(["command", "schedule"]),
  selection: z.string(),
  status: z.enum(["queued", "running", "finished", "interrupted", "failed"]),
  verdict: z.enum(["reproduced", "not_reproduced"]).nullable(),
  summary: z
    .object({
      targets: z.number(),
      reproduced: z.number(),
      not_reproduced: z.number(),
      left_out: z.number(),
      // Absent in rows of batches before unreplayable targets were counted.
      unreplayable: z.number().default(0),
      steps: z.number(),
    })
    .nullable(),
  error: z.string().nullable(),
  started_at: z.union([z.date(), z.string()]).transform((v) => new Date(v).toISOString()),
  finished_at: z
    .union([z.date(), z.string()])
    .nullable()
    .transform((v) => (v === null ? null : new Date(v).toISOString())),
});

export type BatchRow = z.infer<typeof rowSchema>;

/** The latest batches, newest first; rows that do not parse are skipped. */
export async function listBatches(db: SqlQueryable, limit = 50): Promise<BatchRow[]> {
  const rows = await db.query(
    `SELECT id, trigger, selection, status, verdict, summary, error, started_at, finished_at
     FROM replay_runner.verifications ORDER BY started_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return rows.flatMap((row) => {
    const parsed = rowSchema.safeParse(row);
    return parsed.success ? [parsed.data] : [];
  });
}
