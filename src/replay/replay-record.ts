/** A replay's row in replay-runner's own table, so the API and web page can list and follow it. */
import type { SqlQueryable } from "../db/index.js";
import { messageOf } from "../errors/index.js";
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

/**
 * Per-step progress for the live page, appended in batches: at most one UPDATE per interval
 * however many steps finish in it. One UPDATE per step would cost a round trip per step and
 * rewrite an ever longer array (quadratic on a 10,000-step chain).
 */
export class ProgressWriter {
  private pending: ManifestStep[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly db: SqlQueryable,
    private readonly replayId: string,
    private readonly intervalMs = 250,
  ) {}

  add(row: ManifestStep): void {
    this.pending.push(row);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
  }

  private flush(): Promise<void> {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return this.chain;
    const briefs = batch.map((row) => ({
      step_id: row.step_id,
      step_type: row.step_type,
      status: row.status,
      ok: row.ok,
      duration_ms: row.duration_ms,
    }));
    this.chain = this.chain.then(async () => {
      try {
        await this.db.query(
          `UPDATE replay_runner.replays SET progress = progress || $2::jsonb WHERE id = $1`,
          [this.replayId, JSON.stringify(briefs)],
        );
      } catch (error) {
        // Progress is for watchers; a failed write surfaces when the replay is closed.
        this.failure ??= error instanceof Error ? error : new Error(messageOf(error));
      }
    });
    return this.chain;
  }

  /** Writes what is pending; throws the first write error, if any. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.failure !== undefined) throw this.failure;
  }
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
