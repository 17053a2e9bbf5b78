/**
 * Replays left `running` by a process that is gone (SIGKILL, a crash, a machine lost) are
 * marked interrupted by whoever finds them: the next replay, `gc`, `serve`. How a process is
 * judged gone, from its row (owner id, host, pid, heartbeat):
 *  - the embedded registry admits one process at a time, so every owner but the one asking is gone;
 *  - on this host: its pid no longer exists (or is the asker's own, under another owner id:
 *    a pid reused, e.g. pid 1 in a restarted container);
 *  - on any host: no heartbeat for `staleSeconds` (a pid means nothing on another machine, so
 *    a process there is judged only by its heartbeat; rows written before heartbeats existed
 *    have none and count as silent).
 * Served replays are the server's (orphan-sweep.ts re-runs them once); only `gc` marks them too,
 * when asked (`includeServed`), since no server may ever come back for them.
 */
import type { SqlClient, SqlQueryable } from "../db/index.js";
import { pidAlive } from "../locks/index.js";
import { processOwner, type ReplayOwner } from "./replay-record.js";

/**
 * The `stale` column every owner query selects: whether the row's heartbeat is older than the
 * query's first parameter, in seconds (or missing).
 */
export const STALE_HEARTBEAT_SQL =
  "(heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $1::double precision)) AS stale";

/** A row whose process has been silent this long is judged gone (heartbeats: every 5 s). */
export const OWNER_STALE_SECONDS = 30;

export interface OwnerJudge {
  /** The process asking: its own rows are never judged. */
  self: ReplayOwner;
  /** True on the embedded registry: whoever holds it is the only live process. */
  singleProcess: boolean;
  alive: (pid: number) => boolean;
  staleSeconds: number;
  /** Also served replays (gc); otherwise only those started from the command line. */
  includeServed?: boolean | undefined;
}

export interface OrphanRow {
  id: string;
  worker_id: string | null;
  worker_host: string | null;
  worker_pid: number | null;
  submitted_via: string | null;
  stale: boolean;
}

export interface InterruptedOrphan {
  replayId: string;
  reason: string;
}

/** Running rows (all, or command-line only) with whether their heartbeat is older than staleSeconds. */
export async function runningReplayOwners(
  db: SqlQueryable,
  staleSeconds: number,
  includeServed: boolean,
): Promise<OrphanRow[]> {
  const rows = await db.query<OrphanRow>(
    `SELECT id, worker_id, worker_host, worker_pid, submitted_via,
       ${STALE_HEARTBEAT_SQL}
     FROM replay_runner.replays WHERE status = 'running' AND ($2::boolean OR submitted_via IS NULL)`,
    [staleSeconds, includeServed],
  );
  return rows;
}

/** Whether the row's process is gone, and why; undefined while it may still be alive. */
export function ownerGone(row: OrphanRow, judge: OwnerJudge): string | undefined {
  const { self } = judge;
  if (row.worker_id === self.id) return undefined;
  const who = `owner process ${row.worker_pid ?? "(none recorded)"} on host ${row.worker_host ?? "(none recorded)"} is gone`;
  if (judge.singleProcess) return `${who} (the embedded registry is held by process ${self.pid} now)`;
  const sameHost = row.worker_host === self.host;
  if (sameHost && (row.worker_pid === null || row.worker_pid === self.pid || !judge.alive(row.worker_pid)))
    return who;
  if (row.stale) return `${who} (no heartbeat for over ${judge.staleSeconds} s)`;
  return undefined;
}

/** Marks every replay whose process is gone interrupted, with the reason; returns what it marked. */
export async function interruptOrphanedReplays(
  db: SqlQueryable,
  judge: OwnerJudge,
): Promise<InterruptedOrphan[]> {
  const marked: InterruptedOrphan[] = [];
  for (const row of await runningReplayOwners(db, judge.staleSeconds, judge.includeServed === true)) {
    const reason = ownerGone(row, judge);
    if (reason === undefined) continue;
    // Only if nobody moved the row since (its process finishing after all, another judge).
    const updated = await db.query(
      `UPDATE replay_runner.replays
       SET status = 'interrupted', verdict = NULL, finished_at = now(), exit_code = 130,
           error = $3::jsonb
       WHERE id = $1 AND status = 'running' AND worker_id IS NOT DISTINCT FROM $2 RETURNING id`,
      [row.id, row.worker_id, JSON.stringify({ code: "OWNER_GONE", message: `interrupted: ${reason}` })],
    );
    if (updated.length > 0) marked.push({ replayId: row.id, reason });
  }
  return marked;
}

/** How this process judges the rows of `db` (the command line's view; serve passes its worker identity). */
export function localJudge(
  db: Pick<SqlClient, "exclusive">,
  options: { self?: ReplayOwner; includeServed?: boolean } = {},
): OwnerJudge {
  return {
    self: options.self ?? processOwner(),
    // Through serve's socket, other commands share the embedded registry: judged like PostgreSQL.
    singleProcess: db.exclusive,
    alive: pidAlive,
    staleSeconds: OWNER_STALE_SECONDS,
    includeServed: options.includeServed,
  };
}
