/**
 * A replay whose process is SIGKILLed mid-step stays `running` in replay_runner.replays until
 * someone looks, and its page polled forever. Now the row names its process (pid, host,
 * heartbeat) and whoever finds that process gone marks it interrupted with the reason: `gc`,
 * the next `rerun`, `serve`. The API and the page then show it ended.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { apiOf, startServe, waitFor } from "../server/serve-process.js";
import { leftoversOf, recordSlowCopy, SLOW_RAW } from "./fault-harness.js";

interface ReplayRowState {
  status: string;
  exit_code: number | null;
  error: { code?: string; message?: string } | null;
  worker_pid: number | null;
  worker_host: string | null;
  finished_at: Date | null;
}

describe.each(BACKENDS)("a replay whose process was killed (%s)", (backend) => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = await recordSlowCopy(db, registry.blobRoot, 120);
      await f.scriptStep({
        id: "s-quick",
        source: "raw",
        target: "quick",
        payload: SLOW_RAW,
        script: 'open("/out/output", "wb").write(open("/in/source", "rb").read())\n',
      });
    });
  });
  afterAll(async () => {
    await registry.dispose();
  });

  async function rowOf(replayId: string): Promise<ReplayRowState> {
    return registry.with(async (db) => {
      const [row] = await db.query<ReplayRowState>(
        `SELECT status, exit_code, error, worker_pid, worker_host, finished_at FROM replay_runner.replays WHERE id = $1`,
        [replayId],
      );
      if (row === undefined) throw new Error(`no row for ${replayId}`);
      return row;
    });
  }

  /** Starts `rerun slow`, waits for its step's container, SIGKILLs it; returns its replay id and pid. */
  async function killMidStep(name: string): Promise<{ replayId: string; pid: number }> {
    const child = spawn(process.execPath, [CLI, "rerun", "slow", "--out", path.join(registry.dir, name)], {
      cwd: registry.dir,
      env: cliEnv(registry.env),
      stdio: ["ignore", "pipe", "ignore"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const exited = new Promise((resolve) => child.on("close", resolve));
    const pid = child.pid!;
    await waitFor(
      async () => (await leftoversOf(pid)).containers.length > 0,
      "the slow step's container",
      90_000,
    );
    child.kill("SIGKILL");
    await exited;
    const replayId = /replay (r-\S+) of slow/.exec(stdout)?.[1];
    if (replayId === undefined) throw new Error(`no replay id in ${stdout}`);
    // Before anyone looks, the row still says running: nobody could mark it.
    expect((await rowOf(replayId)).status).toBe("running");
    return { replayId, pid };
  }

  function expectInterrupted(row: ReplayRowState, pid: number): void {
    expect(row).toMatchObject({
      status: "interrupted",
      exit_code: 130,
      worker_pid: pid,
      worker_host: os.hostname(),
      error: {
        code: "OWNER_GONE",
        message: expect.stringMatching(
          new RegExp(
            `^interrupted: owner process ${pid} on host ${os.hostname().replace(/[.]/g, "\\.")} is gone`,
          ),
        ) as unknown,
      },
    });
    expect(row.finished_at).not.toBeNull();
  }

  it("gc marks it interrupted with the reason, and the API and the page show it ended", async () => {
    const { replayId, pid } = await killMidStep("killed-gc");
    const gc = await runCli(["gc"], { env: registry.env, cwd: registry.dir });
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/^1 replay\(s\) marked interrupted$/m);
    expect(gc.stderr).toContain(
      `replay ${replayId}: marked interrupted: owner process ${pid} on host ${os.hostname()} is gone`,
    );
    expectInterrupted(await rowOf(replayId), pid);
    expect(await leftoversOf(pid)).toEqual({ containers: [], volumes: [] });

    const server = await startServe(registry);
    try {
      const api = apiOf(server.url);
      const view = await api.request("GET", `/api/replays/${replayId}`);
      expect(view.json).toMatchObject({
        status: "interrupted",
        verdict: null,
        finished_at: expect.any(String) as unknown,
      });
      const page = await api.request("GET", `/replays/${replayId}`);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('data-live="true"'); // the page stops polling
      expect(page.text).toContain(`owner process ${pid} on host`);
    } finally {
      await server.stop();
    }
  });

  it("the next rerun marks it interrupted, and replays as usual", async () => {
    const { replayId, pid } = await killMidStep("killed-next");
    const next = await runCli(["rerun", "quick", "--out", path.join(registry.dir, "next")], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(next.code, next.stderr).toBe(0);
    expectInterrupted(await rowOf(replayId), pid);
  });

  it("serve marks it interrupted when it starts", async () => {
    const { replayId, pid } = await killMidStep("killed-serve");
    const server = await startServe(registry);
    try {
      const view = await apiOf(server.url).request("GET", `/api/replays/${replayId}`);
      expect(view.json).toMatchObject({ status: "interrupted", verdict: null });
      expect(server.output()).toContain(`replay ${replayId}: interrupted: owner process ${pid} on host`);
    } finally {
      await server.stop(); // the embedded registry admits one process: read the row after
    }
    expectInterrupted(await rowOf(replayId), pid);
  });
});
