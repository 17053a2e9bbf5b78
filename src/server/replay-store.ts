/**
 * replay_runner.replays as the server uses it: the one source of truth for a served replay.
 * A queue (pg-boss or the embedded loop) only says "look at replay X"; whoever claims the row
 * (`status = 'queued'` → `running`, atomically) runs it, so a job delivered twice runs once.
 */
import { z } from "zod";
import type { SqlClient, SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import { STALE_HEARTBEAT_SQL } from "../replay/index.js";
import {
  manifestSchema,
  planEntrySchema,
  progressEntrySchema,
  replayErrorJsonSchema,
  replayOptionsSchema,
  replayRowSchema,
  TERMINAL_STATUSES,
  type ManifestView,
  type PlanEntry,
  type ProgressEntry,
  type ReplayRow,
  type ServedReplayStatus,
  type StoredReplayOptions,
} from "./schemas.js";
import type { WorkerIdentity } from "./worker-identity.js";

const COLUMNS = `id, target_artifact_id, status, verdict, options, out_dir, idempotency_key, created_at, started_at,
  finished_at, exit_code, progress, manifest, error, submitted_via, attempts, job_id, worker_id, worker_host,
  worker_pid, heartbeat_at, cancel_requested_at, plan`;

/** A replay row, decoded: what the API answers and the pages render. */
export interface ReplayView {
  row: ReplayRow;
  options: StoredReplayOptions;
  progress: ProgressEntry[];
  plan: PlanEntry[];
  /** Null until finished, or when a row holds a manifest this version cannot read. */
  manifest: ManifestView | null;
  error: { code: string | null; message: string; hint: string | null } | null;
}

function parseRows(rows: unknown[]): ReplayRow[] {
  return rows.map((raw) => {
    const parsed = replayRowSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ReplayError(
        "INTERNAL",
        `A row of replay_runner.replays has an unexpected shape: ${parsed.error.message}`,
      );
    }
    return parsed.data;
  });
}

function listOf<T>(value: unknown, parse: (v: unknown) => T | undefined): T[] {
  if (!Array.isArray(value)) return [];
  return value.map(parse).filter((v): v is T => v !== undefined);
}

export function viewOf(row: ReplayRow): ReplayView {
  const options = replayOptionsSchema.safeParse(row.options ?? {});
  const manifest = row.manifest === null ? null : manifestSchema.safeParse(row.manifest);
  const error = row.error === null ? null : replayErrorJsonSchema.safeParse(row.error);
  return {
    row,
    options: options.success
      ? options.data
      : { from: null, strict: false, diff: false, triage: "off", repeat: 2 },
    progress: listOf(row.progress, (v) => progressEntrySchema.safeParse(v).data),
    plan: listOf(row.plan, (v) => planEntrySchema.safeParse(v).data),
    manifest: manifest?.success === true ? manifest.data : null,
    error:
      error === null
        ? null
        : error.success
          ? { code: error.data.code ?? null, message: error.data.message, hint: error.data.hint ?? null }
          : { code: null, message: "the replay failed (its error record is unreadable)", hint: null },
  };
}

export async function getReplay(db: SqlQueryable, id: string): Promise<ReplayView | null> {
  const [row] = parseRows(await db.query(`SELECT ${COLUMNS} FROM replay_runner.replays WHERE id = $1`, [id]));
  return row === undefined ? null : viewOf(row);
}

export async function requireReplay(db: SqlQueryable, id: string): Promise<ReplayView> {
  const view = await getReplay(db, id);
  if (view === null) {
    throw new ReplayError("NOT_FOUND", `There is no replay ${id}.`, {
      hint: "Replay ids are returned by POST /api/artifacts/:id/rerun and listed by GET /api/artifacts/:id.",
      details: { replay_id: id },
    });
  }
  return view;
}

export async function listReplaysOf(db: SqlQueryable, artifactId: string, limit = 50): Promise<ReplayView[]> {
  const rows = await db.query(
    `SELECT ${COLUMNS} FROM replay_runner.replays WHERE target_artifact_id = $1 ORDER BY created_at DESC LIMIT $2`,
    [artifactId, limit],
  );
  return parseRows(rows).map(viewOf);
}

export interface Submission {
  replayId: string;
  artifactId: string;
  options: StoredReplayOptions;
  outDir: string;
  idempotencyKey: string | undefined;
}

export interface SubmitResult {
  view: ReplayView;
  /** False: an earlier submission's replay (same Idempotency-Key, or one still queued or running). */
  created: boolean;
}

/**
 * Queues a replay unless the same key was used before, or a served replay of this artifact is
 * still queued or running. The check and the insert run under one lock, so two submissions
 * racing each other still end with one replay.
 */
export async function submitReplay(db: SqlClient, s: Submission): Promise<SubmitResult> {
  return db.transaction(async (tx) => {
    // PGlite runs one transaction at a time; PostgreSQL needs the lock across sessions and servers.
    if (db.backend === "postgres")
      await tx.query("SELECT pg_advisory_xact_lock(7212002, hashtext($1))", [s.artifactId]);
    if (s.idempotencyKey !== undefined) {
      const [same] = parseRows(
        await tx.query(`SELECT ${COLUMNS} FROM replay_runner.replays WHERE idempotency_key = $1`, [
          s.idempotencyKey,
        ]),
      );
      if (same !== undefined) {
        if (same.target_artifact_id !== s.artifactId) {
          throw new ReplayError(
            "USAGE",
            `The Idempotency-Key was already used for a replay of another artifact (${same.target_artifact_id}).`,
            {
              hint: "Use a new key for each distinct submission.",
              details: { field: "Idempotency-Key", replay_id: same.id },
            },
          );
        }
        return { view: viewOf(same), created: false };
      }
    }
    const [active] = parseRows(
      await tx.query(
        `SELECT ${COLUMNS} FROM replay_runner.replays
         WHERE target_artifact_id = $1 AND submitted_via = 'api' AND status IN ('queued', 'running')
         ORDER BY created_at LIMIT 1`,
        [s.artifactId],
      ),
    );
    if (active !== undefined) return { view: viewOf(active), created: false };
    const [inserted] = parseRows(
      await tx.query(
        `INSERT INTO replay_runner.replays (id, target_artifact_id, status, options, out_dir, idempotency_key, submitted_via)
         VALUES ($1, $2, 'queued', $3, $4, $5, 'api') RETURNING ${COLUMNS}`,
        [s.replayId, s.artifactId, JSON.stringify(s.options), s.outDir, s.idempotencyKey ?? null],
      ),
    );
    if (inserted === undefined) throw new ReplayError("INTERNAL", "Inserting the replay returned no row.");
    return { view: viewOf(inserted), created: true };
  });
}

export async function setJobId(db: SqlQueryable, replayId: string, jobId: string): Promise<void> {
  await db.query(`UPDATE replay_runner.replays SET job_id = $2 WHERE id = $1 AND status = 'queued'`, [
    replayId,
    jobId,
  ]);
}

/** queued → running for this worker; null when the replay is not queued (cancelled, taken, done). */
export async function claimReplay(
  db: SqlQueryable,
  replayId: string,
  worker: WorkerIdentity,
  jobId: string | null,
): Promise<ReplayView | null> {
  const [row] = parseRows(
    await db.query(
      `UPDATE replay_runner.replays
       SET status = 'running', attempts = attempts + 1, worker_id = $2, worker_host = $3, worker_pid = $4,
           heartbeat_at = now(), started_at = now(), job_id = COALESCE($5, job_id)
       WHERE id = $1 AND status = 'queued' RETURNING ${COLUMNS}`,
      [replayId, worker.id, worker.host, worker.pid, jobId],
    ),
  );
  return row === undefined ? null : viewOf(row);
}

/** The oldest served replay waiting to run (the embedded queue's "next job"). */
export async function nextQueuedReplay(db: SqlQueryable): Promise<string | null> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM replay_runner.replays WHERE status = 'queued' AND submitted_via = 'api' ORDER BY created_at, id LIMIT 1`,
  );
  return rows[0]?.id ?? null;
}

export async function queuedReplayIds(db: SqlQueryable): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM replay_runner.replays WHERE status = 'queued' AND submitted_via = 'api' ORDER BY created_at, id`,
  );
  return rows.map((r) => r.id);
}

/** Keeps this worker's replays visibly alive; answers which of them were asked to stop. */
export async function heartbeat(
  db: SqlQueryable,
  worker: WorkerIdentity,
  replayIds: readonly string[],
): Promise<string[]> {
  if (replayIds.length === 0) return [];
  const rows = await db.query<{ id: string; cancel: boolean }>(
    `UPDATE replay_runner.replays SET heartbeat_at = now()
     WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND worker_id = $2 AND status = 'running'
     RETURNING id, cancel_requested_at IS NOT NULL AS cancel`,
    [JSON.stringify(replayIds), worker.id],
  );
  return rows.filter((r) => r.cancel).map((r) => r.id);
}

export async function recordPlan(db: SqlQueryable, replayId: string, plan: PlanEntry[]): Promise<void> {
  await db.query(`UPDATE replay_runner.replays SET plan = $2 WHERE id = $1`, [
    replayId,
    JSON.stringify(plan),
  ]);
}

/** not-served: a replay started from the command line; only its own process can stop it. */
export type CancelOutcome = "cancelled-before-start" | "cancelling" | "finished" | "not-served";

/** A queued replay is cancelled at once; a running one is flagged for its worker (maybe on another server). */
export async function requestCancel(db: SqlQueryable, replayId: string): Promise<CancelOutcome> {
  const error = JSON.stringify({ code: "INTERRUPTED", message: "cancelled before it started" });
  const queued = await db.query(
    `UPDATE replay_runner.replays
     SET status = 'interrupted', cancel_requested_at = now(), finished_at = now(), error = $2, exit_code = 130
     WHERE id = $1 AND status = 'queued' RETURNING id`,
    [replayId, error],
  );
  if (queued.length > 0) return "cancelled-before-start";
  const running = await db.query<{ served: boolean }>(
    `UPDATE replay_runner.replays SET cancel_requested_at = COALESCE(cancel_requested_at, now())
     WHERE id = $1 AND status = 'running' AND submitted_via = 'api' RETURNING id`,
    [replayId],
  );
  if (running.length > 0) return "cancelling";
  const cli = await db.query(
    `SELECT id FROM replay_runner.replays WHERE id = $1 AND status = 'running' AND submitted_via IS NULL`,
    [replayId],
  );
  return cli.length > 0 ? "not-served" : "finished";
}

/** Served replays left running by some worker, for the orphan sweep to judge. */
export async function runningServedReplays(
  db: SqlQueryable,
  staleSeconds: number,
): Promise<(ReplayRow & { stale: boolean })[]> {
  const rows = await db.query(
    `SELECT ${COLUMNS}, ${STALE_HEARTBEAT_SQL}
     FROM replay_runner.replays WHERE status = 'running' AND submitted_via = 'api'`,
    [staleSeconds],
  );
  const staleSchema = z.object({ stale: z.boolean() });
  return parseRows(rows).map((row, i) => ({ ...row, stale: staleSchema.parse(rows[i]).stale }));
}

export interface OrphanDecision {
  replayId: string;
  /** The worker id seen when judging it: the update applies only if nobody else moved the row since. */
  workerId: string | null;
  outcome: "requeue" | "failed" | "interrupted";
  reason: string;
}

/** Applies one orphan decision atomically; false when another server (or the worker) got there first. */
export async function settleOrphan(db: SqlQueryable, d: OrphanDecision): Promise<boolean> {
  const error = JSON.stringify({ code: "WORKER_LOST", message: d.reason });
  const rows =
    d.outcome === "requeue"
      ? await db.query(
          `UPDATE replay_runner.replays
         SET status = 'queued', worker_id = NULL, worker_host = NULL, worker_pid = NULL, heartbeat_at = NULL,
             error = $3, progress = '[]'::jsonb
         WHERE id = $1 AND status = 'running' AND worker_id IS NOT DISTINCT FROM $2 RETURNING id`,
          [d.replayId, d.workerId, error],
        )
      : await db.query(
          `UPDATE replay_runner.replays
         SET status = $4, error = $3, finished_at = now(), exit_code = $5
         WHERE id = $1 AND status = 'running' AND worker_id IS NOT DISTINCT FROM $2 RETURNING id`,
          [d.replayId, d.workerId, error, d.outcome, d.outcome === "interrupted" ? 130 : 1],
        );
  return rows.length > 0;
}

export function isTerminal(status: ServedReplayStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export async function listRecentReplays(db: SqlQueryable, limit: number): Promise<ReplayView[]> {
  const rows = await db.query(
    `SELECT ${COLUMNS} FROM replay_runner.replays ORDER BY created_at DESC LIMIT $1`,
    [limit],
  );
  return parseRows(rows).map(viewOf);
}
