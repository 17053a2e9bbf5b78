/** A replay's row in replay-runner's own table, so the API and web page can list and follow it. */
import type { SqlQueryable } from "../db/index.js";
import type { Manifest, ManifestStep } from "./manifest.js";

export type ReplayStatus = "queued" | "running" | "succeeded" | "failed" | "interrupted";

export interface ReplayRecordStart {
  id: string;
  targetArtifactId: string;
  options: Record<string, unknown>;
  outDir: string;
}

/** Inserts the row as running, or moves a queued row (created by the API) to running. */
export async function startReplayRecord(db: SqlQueryable, start: ReplayRecordStart): Promise<void> {
  await db.query(
    `INSERT INTO replay_runner.replays (id, target_artifact_id, status, options, out_dir, started_at)
     VALUES ($1, $2, 'running', $3, $4, now())
     ON CONFLICT (id) DO UPDATE SET status = 'running', out_dir = EXCLUDED.out_dir, started_at = now(),
       progress = '[]'::jsonb, manifest = NULL, error = NULL, finished_at = NULL, exit_code = NULL`,
    [start.id, start.targetArtifactId, JSON.stringify(start.options), start.outDir],
  );
}

export async function recordStepProgress(
  db: SqlQueryable,
  replayId: string,
  row: ManifestStep,
): Promise<void> {
  const brief = {
    step_id: row.step_id,
    step_type: row.step_type,
    status: row.status,
    ok: row.ok,
    duration_ms: row.duration_ms,
  };
  await db.query(`UPDATE replay_runner.replays SET progress = progress || $2::jsonb WHERE id = $1`, [
    replayId,
    JSON.stringify([brief]),
  ]);
}

export function statusOf(manifest: Manifest): ReplayStatus {
  if (manifest.interrupted) return "interrupted";
  return manifest.status === "reproduced" ? "succeeded" : "failed";
}

export async function finishReplayRecord(
  db: SqlQueryable,
  manifest: Manifest,
  exitCode: number,
): Promise<void> {
  await db.query(
    `UPDATE replay_runner.replays SET status = $2, manifest = $3, exit_code = $4, finished_at = now() WHERE id = $1`,
    [manifest.replay_id, statusOf(manifest), JSON.stringify(manifest), exitCode],
  );
}

export async function failReplayRecord(
  db: SqlQueryable,
  replayId: string,
  status: "failed" | "interrupted",
  error: Record<string, unknown>,
  exitCode: number,
): Promise<void> {
  await db.query(
    `UPDATE replay_runner.replays SET status = $2, error = $3, exit_code = $4, finished_at = now() WHERE id = $1`,
    [replayId, status, JSON.stringify(error), exitCode],
  );
}
