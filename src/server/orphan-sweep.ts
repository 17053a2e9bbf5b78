/**
 * Served replays whose worker died (a server killed, a machine lost) must not stay "running"
 * forever. A worker is dead when it is this host's and its pid is gone, when its heartbeat is
 * older than `staleSeconds` (another host), or — embedded — whenever it is not this process
 * (PGlite admits one process, so any other worker is gone).
 *
 * Decision: such a replay is queued again and re-run from the start, once (replays only read
 * the registry and write their own folder, so a re-run is safe); a replay whose worker died on
 * its last attempt is marked failed with the reason, and one that had been cancelled is marked
 * interrupted. The dead worker's containers are removed first, and its pg-boss job is failed
 * with the same reason.
 *
 * Replays started from the command line (`rerun`, no worker id of a server) whose process is
 * gone are marked interrupted by the same sweep, as the next `rerun` and `gc` do
 * (src/replay/dead-owners.ts): nobody can run them again.
 */
import type { SqlQueryable } from "../db/index.js";
import { messageOf } from "../errors/index.js";
import { interruptOrphanedBatches } from "../fleet/index.js";
import { interruptOrphanedReplays, processOwner } from "../replay/index.js";
import type { ReplayQueue } from "./replay-queue.js";
import { runningServedReplays, setJobId, settleOrphan, type OrphanDecision } from "./replay-store.js";
import type { WorkerIdentity } from "./worker-identity.js";

export const WORKER_LOST_REASON = "the server stopped while this replay ran";

export interface SweepDeps {
  db: SqlQueryable;
  identity: WorkerIdentity;
  queue: ReplayQueue;
  /** PGlite: one process at a time, so every other worker is dead. */
  singleProcess: boolean;
  staleSeconds: number;
  maxAttempts: number;
  alive: (pid: number) => boolean;
  removeRunResources?: ((runId: string) => Promise<void>) | undefined;
  log: (line: string) => void;
}

export async function sweepOrphans(deps: SweepDeps): Promise<OrphanDecision[]> {
  const { identity } = deps;
  const settled: OrphanDecision[] = [];
  const cliOrphans = await interruptOrphanedReplays(deps.db, {
    self: identity,
    singleProcess: deps.singleProcess,
    alive: deps.alive,
    staleSeconds: deps.staleSeconds,
  });
  // Batches are owned by the process that runs them (a `verify`, or this server's schedule,
  // whose batches carry this process's own owner id, not the worker identity).
  for (const batch of await interruptOrphanedBatches(deps.db, {
    self: processOwner(),
    singleProcess: deps.singleProcess,
    alive: deps.alive,
    staleSeconds: deps.staleSeconds,
  })) {
    deps.log(`batch ${batch.batchId}: interrupted: ${batch.reason}`);
  }
  for (const orphan of cliOrphans) {
    deps.log(`replay ${orphan.replayId}: interrupted: ${orphan.reason}`);
    await deps.removeRunResources?.(orphan.replayId).catch((error: unknown) => {
      deps.log(`replay ${orphan.replayId}: cleanup: ${messageOf(error)}`);
    });
    settled.push({
      replayId: orphan.replayId,
      workerId: null,
      outcome: "interrupted",
      reason: orphan.reason,
    });
  }
  for (const row of await runningServedReplays(deps.db, deps.staleSeconds)) {
    if (row.worker_id === identity.id) continue;
    const sameHost = row.worker_host === identity.host;
    const pidGone = row.worker_pid === null || row.worker_pid === identity.pid || !deps.alive(row.worker_pid);
    if (!(deps.singleProcess || row.stale || (sameHost && pidGone))) continue;
    const who = `worker ${row.worker_host ?? "?"} pid ${row.worker_pid ?? "?"}`;
    const decision: OrphanDecision =
      row.cancel_requested_at !== null
        ? {
            replayId: row.id,
            workerId: row.worker_id,
            outcome: "interrupted",
            reason: `cancelled; ${WORKER_LOST_REASON} (${who})`,
          }
        : row.attempts < deps.maxAttempts
          ? {
              replayId: row.id,
              workerId: row.worker_id,
              outcome: "requeue",
              reason: `${WORKER_LOST_REASON} (${who}); queued again for attempt ${row.attempts + 1} of ${deps.maxAttempts}`,
            }
          : {
              replayId: row.id,
              workerId: row.worker_id,
              outcome: "failed",
              reason: `${WORKER_LOST_REASON} (${who}) on attempt ${row.attempts} of ${deps.maxAttempts}; not retried again`,
            };
    if (!(await settleOrphan(deps.db, decision))) continue; // another server settled it first
    deps.log(`replay ${row.id}: ${decision.reason}`);
    await deps.removeRunResources?.(row.id).catch((error: unknown) => {
      deps.log(`replay ${row.id}: cleanup: ${messageOf(error)}`);
    });
    if (row.job_id !== null)
      await deps.queue.abandon(row.job_id, decision.reason).catch((error: unknown) => {
        deps.log(`job ${row.job_id ?? ""}: ${messageOf(error)}`);
      });
    if (decision.outcome === "requeue") {
      const jobId = await deps.queue.dispatch(row.id);
      if (jobId !== null) await setJobId(deps.db, row.id, jobId);
    }
    settled.push(decision);
  }
  return settled;
}
