/**
 * Background replays survive the server: a server SIGKILLed mid-replay and started again ends
 * the replay (re-run once: finished, reproduced) with no container left; a replay whose server died on its
 * last attempt is failed with the reason; a queued replay is still run after a restart.
 */
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { seedServedChain } from "./served-chain.js";
import {
  apiOf,
  containersOf,
  startServe,
  waitFor,
  waitForReplay,
  type ReplayStatus,
  type ServeProcess,
} from "./serve-process.js";

const FINISHED: ReplayStatus[] = ["finished", "failed", "interrupted"];
/** No process has this pid (Linux pids stay below 2^22). */
const DEAD_PID = 2_147_483_646;

describe.each(BACKENDS)("serve restarts (%s)", (backend) => {
  let registry: TestRegistry;
  const servers: ServeProcess[] = [];

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await seedServedChain(registry, { slowSeconds: 6 });
  });
  afterAll(async () => {
    for (const s of servers) await s.kill();
    await registry.dispose();
  });

  it("a server killed mid-replay and restarted: the replay runs again and succeeds, no container is left", async () => {
    const first = await startServe(registry);
    servers.push(first);
    const queued = await apiOf(first.url).request("POST", "/api/artifacts/slow/rerun", { body: {} });
    expect(queued.status).toBe(202);
    const replayId = String(queued.json.replay_id);
    await waitFor(() => containersOf(replayId).length > 0, "the slow step's container", 90_000);
    await first.kill();
    // Docker keeps the dead server's container: the next start must remove it.
    expect(containersOf(replayId).length).toBeGreaterThan(0);

    const second = await startServe(registry);
    servers.push(second);
    const api = apiOf(second.url);
    const done = await waitForReplay(api, replayId, FINISHED, 120_000);
    expect(done).toMatchObject({ status: "finished", verdict: "reproduced" });
    expect(done.attempts).toBe(2);
    expect(containersOf(replayId)).toEqual([]);
    expect(await second.stop()).toBe(0);
  });

  it("SIGTERM stops the server cleanly: the running replay is interrupted and its containers removed", async () => {
    const server = await startServe(registry);
    servers.push(server);
    const queued = await apiOf(server.url).request("POST", "/api/artifacts/slow/rerun", { body: {} });
    const replayId = String(queued.json.replay_id);
    await waitFor(() => containersOf(replayId).length > 0, "the slow step's container", 90_000);
    expect(await server.stop()).toBe(0);
    expect(containersOf(replayId)).toEqual([]);

    const again = await startServe(registry);
    servers.push(again);
    const done = await waitForReplay(apiOf(again.url), replayId, FINISHED, 10_000);
    expect(done.status).toBe("interrupted");
    expect((done.manifest as { interrupted: boolean } | null)?.interrupted).toBe(true);
    expect(await again.stop()).toBe(0);
  });

  it("a replay whose server died on its last attempt is failed with the reason; a queued replay survives the restart", async () => {
    const deadId = "r-20260101T000000-dead01";
    const queuedId = "r-20260101T000000-queued";
    await registry.with(async (db) => {
      await db.query(
        `INSERT INTO replay_runner.replays (id, target_artifact_id, status, options, out_dir, submitted_via, attempts,
           worker_id, worker_host, worker_pid, heartbeat_at, started_at)
         VALUES ($1, 'upper', 'running', '{}', $2, 'api', 2, 'w-gone', $3, $4, now(), now())`,
        [deadId, path.join(registry.home, "replays", deadId), os.hostname(), DEAD_PID],
      );
      await db.query(
        `INSERT INTO replay_runner.replays (id, target_artifact_id, status, options, out_dir, submitted_via)
         VALUES ($1, 'upper', 'queued', '{}', $2, 'api')`,
        [queuedId, path.join(registry.home, "replays", queuedId)],
      );
    });
    const server = await startServe(registry);
    servers.push(server);
    const api = apiOf(server.url);
    const dead = await waitForReplay(api, deadId, FINISHED, 30_000);
    expect(dead.status).toBe("failed");
    expect((dead.error as { message: string }).message).toMatch(
      /the server stopped while this replay ran .*attempt 2 of 2/,
    );
    const revived = await waitForReplay(api, queuedId, FINISHED, 120_000);
    expect(revived).toMatchObject({ status: "finished", verdict: "reproduced" });
    expect(await server.stop()).toBe(0);
  });
});
