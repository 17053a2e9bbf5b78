/**
 * A queued batch's steps in `replay_runner.batch_steps` (migration 9): one row per distinct
 * step, `waiting` for its upstream steps, `queued` (its job exists), `running` (claimed by a
 * worker that beats), `done` (its manifest row recorded, once). Every change of a step is one
 * conditional UPDATE, so two workers can never both record it; finishing a step and queueing
 * the steps it unblocks happen in one transaction that holds the batch's row, so two parents
 * finishing at once cannot both miss their child.
 */
import type { SqlQueryable } from "../db/index.js";
import { STALE_HEARTBEAT_SQL, type ManifestStep, type ReplayOwner } from "../replay/index.js";

/** A step whose workers died this many times is recorded failed, so the batch still ends. */
export const MAX_STEP_ATTEMPTS = 3;

export interface BatchStepPlanRow {
  step_id: string;
  position: number;
  target_artifact_id: string;
  upstream: string[];
  dependents: number;
}

/** Inserts every step of a batch: those with no upstream in the batch queued, the rest waiting. */
export async function insertBatchSteps(
  tx: SqlQueryable,
  batchId: string,
  steps: readonly BatchStepPlanRow[],
): Promise<string[]> {
  const rows = await tx.query<{ step_id: string; status: string }>(
    `INSERT INTO replay_runner.batch_steps
       (batch_id, step_id, position, target_artifact_id, upstream, dependents, status)
     SELECT $1, x.step_id, x.position, x.target_artifact_id, x.upstream, x.dependents,
            CASE WHEN jsonb_array_length(x.upstream) = 0 THEN 'queued' ELSE 'waiting' END
     FROM jsonb_to_recordset($2::jsonb)
       AS x(step_id text, position integer, target_artifact_id text, upstream jsonb, dependents integer)
     RETURNING step_id, status`,
    [batchId, JSON.stringify(steps)],
  );
  return rows.filter((r) => r.status === "queued").map((r) => r.step_id);
}

export interface ClaimedStep {
  attempts: number;
  targetArtifactId: string;
  upstream: string[];
  outDir: string;
  diff: boolean;
}

/**
 * Takes a queued step (a dead worker's is queued again by the sweep) for `owner`, while
 * its batch is still queued. Null: the step is done, or its batch ended; the job has nothing to do.
 */
export async function claimStep(
  db: SqlQueryable,
  batchId: string,
  stepId: string,
  owner: ReplayOwner,
  jobId: string,
): Promise<ClaimedStep | null> {
  const rows = await db.query<{
    attempts: number;
    target_artifact_id: string;
    upstream: string[];
    out_dir: string;
    diff: boolean | null;
  }>(
    `UPDATE replay_runner.batch_steps s
     SET status = 'running', attempts = s.attempts + 1, job_id = $3, worker_id = $4, worker_host = $5,
         worker_pid = $6, heartbeat_at = now(), started_at = now()
     FROM replay_runner.verifications v
     WHERE s.batch_id = $1 AND s.step_id = $2 AND s.status = 'queued'
       AND v.id = s.batch_id AND v.status = 'queued'
     RETURNING s.attempts, s.target_artifact_id, s.upstream, v.out_dir, (v.plan->'options'->>'diff')::boolean AS diff`,
    [batchId, stepId, jobId, owner.id, owner.host, owner.pid],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    attempts: row.attempts,
    targetArtifactId: row.target_artifact_id,
    upstream: row.upstream,
    outDir: row.out_dir,
    diff: row.diff === true,
  };
}

/**
 * Tells the other workers that this one's running steps still have a live owner; returns those
 * of its running steps whose batch has ended meanwhile (cancelled, failed), to stop them.
 */
export async function heartbeatSteps(
  db: SqlQueryable,
  ownerId: string,
): Promise<{ batchId: string; stepId: string }[]> {
  const rows = await db.query<{ batch_id: string; step_id: string; ended: boolean }>(
    `UPDATE replay_runner.batch_steps s SET heartbeat_at = now()
     FROM replay_runner.verifications v
     WHERE s.worker_id = $1 AND s.status = 'running' AND v.id = s.batch_id
     RETURNING s.batch_id, s.step_id, v.status <> 'queued' AS ended`,
    [ownerId],
  );
  return rows.filter((r) => r.ended).map((r) => ({ batchId: r.batch_id, stepId: r.step_id }));
}

export interface UpstreamRow {
  step_id: string;
  status: string;
  row: ManifestStep | null;
  replayed_hash: string | null;
  replayed_size: string | number | null;
}

export async function upstreamRows(
  db: SqlQueryable,
  batchId: string,
  stepIds: readonly string[],
): Promise<UpstreamRow[]> {
  if (stepIds.length === 0) return [];
  return db.query<UpstreamRow>(
    `SELECT step_id, status, row, replayed_hash, replayed_size FROM replay_runner.batch_steps
     WHERE batch_id = $1 AND step_id IN (SELECT jsonb_array_elements_text($2::jsonb))`,
    [batchId, JSON.stringify(stepIds)],
  );
}

export interface StepRecord {
  batchId: string;
  stepId: string;
  /** The claim's owner and attempt: a later claim (the step handed to another worker) wins. */
  ownerId: string | null;
  attempts: number | null;
  row: ManifestStep;
  replayed: { contentHash: string; size: number } | null;
}

export interface RecordResult {
  recorded: boolean;
  /** Steps this one unblocked, now queued (their jobs are the caller's to send, in `tx`). */
  unblocked: string[];
  /** True when no step of the batch is left to record. */
  complete: boolean;
}

/**
 * Records a step's row, once, in `tx`: refused when the step is no longer this claim's (done
 * by another worker, handed back). Then queues the steps whose upstream is all done.
 */
export async function recordStep(tx: SqlQueryable, record: StepRecord): Promise<RecordResult> {
  // Serialises the batch's finishes (see the header); a batch that ended takes no more rows.
  const batch = await tx.query<{ status: string }>(
    `SELECT status FROM replay_runner.verifications WHERE id = $1 FOR UPDATE`,
    [record.batchId],
  );
  if (batch[0]?.status !== "queued") return { recorded: false, unblocked: [], complete: false };
  const updated = await tx.query(
    `UPDATE replay_runner.batch_steps
     SET status = 'done', row = $5::jsonb, replayed_hash = $6, replayed_size = $7, finished_at = now(),
         heartbeat_at = NULL
     WHERE batch_id = $1 AND step_id = $2 AND status <> 'done'
       AND ($3::text IS NULL OR (status = 'running' AND worker_id = $3 AND attempts = $4))
     RETURNING step_id`,
    [
      record.batchId,
      record.stepId,
      record.ownerId,
      record.attempts,
      JSON.stringify(record.row),
      record.replayed?.contentHash ?? null,
      record.replayed?.size ?? null,
    ],
  );
  if (updated.length === 0) return { recorded: false, unblocked: [], complete: false };
  const unblocked = await tx.query<{ step_id: string }>(
    `UPDATE replay_runner.batch_steps s SET status = 'queued'
     WHERE s.batch_id = $1 AND s.status = 'waiting' AND s.upstream @> jsonb_build_array($2::text)
       AND NOT EXISTS (
         SELECT 1 FROM replay_runner.batch_steps u
         WHERE u.batch_id = s.batch_id AND u.status <> 'done'
           AND u.step_id IN (SELECT jsonb_array_elements_text(s.upstream)))
     RETURNING s.step_id`,
    [record.batchId, record.stepId],
  );
  const left = await tx.query<{ left: string | number }>(
    `SELECT count(*) AS left FROM replay_runner.batch_steps WHERE batch_id = $1 AND status <> 'done'`,
    [record.batchId],
  );
  return {
    recorded: true,
    unblocked: unblocked.map((r) => r.step_id),
    complete: Number(left[0]?.left ?? 1) === 0,
  };
}

/** Hands a claimed step back (its worker is stopping, or died): queued for the next worker. */
export async function releaseStep(
  db: SqlQueryable,
  step: { batchId: string; stepId: string; ownerId: string; attempts: number },
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE replay_runner.batch_steps
     SET status = 'queued', worker_id = NULL, worker_host = NULL, worker_pid = NULL, heartbeat_at = NULL
     WHERE batch_id = $1 AND step_id = $2 AND status = 'running' AND worker_id = $3 AND attempts = $4
     RETURNING step_id`,
    [step.batchId, step.stepId, step.ownerId, step.attempts],
  );
  return rows.length > 0;
}

export interface RunningStepRow {
  batch_id: string;
  step_id: string;
  job_id: string | null;
  attempts: number;
  target_artifact_id: string;
  worker_id: string | null;
  worker_host: string | null;
  worker_pid: number | null;
  stale: boolean;
}

/** Running steps of queued batches, with whether their owner's heartbeat is older than staleSeconds. */
export async function runningSteps(db: SqlQueryable, staleSeconds: number): Promise<RunningStepRow[]> {
  return db.query<RunningStepRow>(
    `SELECT batch_id, step_id, job_id, attempts, target_artifact_id, worker_id, worker_host, worker_pid,
       ${STALE_HEARTBEAT_SQL}
     FROM replay_runner.batch_steps WHERE status = 'running'`,
    [staleSeconds],
  );
}

export interface DoneStepRow {
  step_id: string;
  status: string;
  row: ManifestStep | null;
  replayed_hash: string | null;
}

export async function batchStepRows(db: SqlQueryable, batchId: string): Promise<DoneStepRow[]> {
  return db.query<DoneStepRow>(
    `SELECT step_id, status, row, replayed_hash FROM replay_runner.batch_steps
     WHERE batch_id = $1 ORDER BY position`,
    [batchId],
  );
}
