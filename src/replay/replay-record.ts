/**
 * A replay's row in replay-runner's own table, so the API and web page can list and follow it.
 * The row names the process that runs it (owner id, host, pid) and carries its heartbeat, so a
 * replay whose process died (SIGKILL, a crash) is found and marked interrupted by whoever looks
 * next (dead-owners.ts): the next replay, `gc`, `serve`.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { SqlQueryable } from "../db/index.js";
import { messageOf } from "../errors/index.js";
import type { Manifest, ManifestStep } from "./manifest.js";

/**
 * A replay's life: queued (served, waiting), running, then finished (it ran to its end: see
 * the verdict), interrupted (cancelled, a signal, its process died) or failed (it could not
 * run at all: a chain that cannot be replayed, an error of replay-runner itself).
 */
export type ReplayStatus = "queued" | "running" | "finished" | "failed" | "interrupted";
/** A finished replay's verdict; null while it runs, and for one that did not finish. */
export type ReplayVerdict = "reproduced" | "not_reproduced";

/** The process a replay row belongs to. Served replays use the server's worker identity. */
export interface ReplayOwner {
  id: string;
  host: string;
  pid: number;
}

let ownProcess: ReplayOwner | undefined;

/** This process as the owner of the replays it runs from the command line (`c-` ids). */
export function processOwner(): ReplayOwner {
  ownProcess ??= { id: `c-${randomBytes(6).toString("hex")}`, host: os.hostname(), pid: process.pid };
  return ownProcess;
}

/** How often a running replay's process says it is alive; a row silent for much longer is judged dead. */
export const OWNER_HEARTBEAT_MS = 5000;

export interface ReplayRecordStart {
  id: string;
  targetArtifactId: string;
  options: Record<string, unknown>;
  outDir: string;
  owner?: ReplayOwner | undefined;
  heartbeatMs?: number | undefined;
}

/** The row of a running replay; disposing it stops the heartbeat. */
export interface ReplayRecord extends AsyncDisposable {
  /** True when this process owns the row (a CLI replay); false for a served one (its worker beats). */
  owned: boolean;
}

/**
 * Inserts the row as running, owned by this process, or moves a queued row (created by the
 * API) to running; a served row keeps its worker as owner.
 */
export async function startReplayRecord(db: SqlQueryable, start: ReplayRecordStart): Promise<ReplayRecord> {
  const owner = start.owner ?? processOwner();
  const rows = await db.query<{ worker_id: string | null }>(
    `INSERT INTO replay_runner.replays (id, target_artifact_id, status, options, out_dir, started_at,
       worker_id, worker_host, worker_pid, heartbeat_at)
     VALUES ($1, $2, 'running', $3, $4, now(), $5, $6, $7, now())
     ON CONFLICT (id) DO UPDATE SET status = 'running', out_dir = EXCLUDED.out_dir, started_at = now(),
       progress = '[]'::jsonb, manifest = NULL, error = NULL, finished_at = NULL, exit_code = NULL, verdict = NULL
     RETURNING worker_id`,
    [
      start.id,
      start.targetArtifactId,
      JSON.stringify(start.options),
      start.outDir,
      owner.id,
      owner.host,
      owner.pid,
    ],
  );
  const owned = rows[0]?.worker_id === owner.id;
  let timer: NodeJS.Timeout | undefined;
  if (owned) {
    timer = setInterval(() => {
      db.query(
        `UPDATE replay_runner.replays SET heartbeat_at = now() WHERE id = $1 AND worker_id = $2 AND status = 'running'`,
        [start.id, owner.id],
      ).catch(() => undefined); // a missed beat only matters after many; the replay goes on
    }, start.heartbeatMs ?? OWNER_HEARTBEAT_MS);
    timer.unref();
  }
  return {
    owned,
    [Symbol.asyncDispose]() {
      clearInterval(timer);
      return Promise.resolve();
    },
  };
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

/** A replay that wrote its manifest ran to its end (finished), unless it was interrupted. */
export function statusOf(manifest: Manifest): ReplayStatus {
  return manifest.interrupted ? "interrupted" : "finished";
}

export function verdictOf(manifest: Manifest): ReplayVerdict | null {
  if (manifest.interrupted) return null;
  return manifest.status === "reproduced" ? "reproduced" : "not_reproduced";
}

export async function finishReplayRecord(
  db: SqlQueryable,
  manifest: Manifest,
  exitCode: number,
): Promise<void> {
  await db.query(
    // A replay recorded failed (a crash the server absorbed) stays failed: its own wind-down,
    // which sees only an aborted signal, would otherwise call it interrupted.
    `UPDATE replay_runner.replays SET status = $2, verdict = $3, manifest = $4, exit_code = $5, finished_at = now()
     WHERE id = $1 AND status <> 'failed'`,
    [manifest.replay_id, statusOf(manifest), verdictOf(manifest), JSON.stringify(manifest), exitCode],
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
    `UPDATE replay_runner.replays SET status = $2, error = $3, exit_code = $4, finished_at = now(), verdict = NULL
     WHERE id = $1`,
    [replayId, status, JSON.stringify(error), exitCode],
  );
}
