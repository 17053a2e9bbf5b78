/**
 * `verify --cancel ID` on PostgreSQL: a queued batch is marked interrupted with the reason, and a
 * worker started after takes none of its steps (no step claimed, no container). Cancelling a
 * batch that has ended, one an in-process verify runs, or an unknown id exits 2 saying why.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { CLI, cliEnv, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const SLOW = `import time
time.sleep(120)
open("/out/output", "w").write(open("/in/source").read() + "-slow")
`;
const UPPER = `open("/out/output", "w").write(open("/in/source").read().upper())
`;

describe("cancelling a queued batch", () => {
  let registry: TestRegistry;
  let worker: ChildProcess | undefined;
  let workerLog = "";
  const cli = (args: string[]) => runCli(args, { env: registry.env, cwd: registry.dir });

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "abc");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.scriptStep({ id: "s-up", source: "raw", target: "up", payload: "ABC", script: UPPER });
      await f.artifact("fig", "ABC", { type: "figure" });
      await f.step({ id: "s-fig", source: "up", target: "fig", stepType: "fork" });
      await f.scriptStep({ id: "s-slow", source: "raw", target: "slow", payload: "abc-slow", script: SLOW });
    });
  });
  afterAll(async () => {
    worker?.kill("SIGKILL");
    await registry.dispose();
  });

  it("a cancelled batch ends interrupted, and a worker runs none of its steps", async () => {
    const out = path.join(registry.dir, "cancelled");
    const queued = await cli(["verify", "fig", "--queue", "--json", "--out", out]);
    expect([queued.code, queued.stderr]).toEqual([0, ""]);
    const { batchId, steps } = JSON.parse(queued.stdout) as { batchId: string; steps: number };
    expect(steps).toBe(3);

    const cancelled = await cli(["verify", "--cancel", batchId]);
    expect([cancelled.code, cancelled.stderr, cancelled.stdout]).toEqual([
      0,
      "",
      `cancelled batch ${batchId}: 0 of 3 step(s) done, 0 running (their workers stop them within seconds), nothing more starts\n` +
        `  folder: ${out} (kept: what was replayed so far)\n`,
    ]);

    // Its jobs are still in pg-boss's queue: a worker takes them and finds nothing to run.
    worker = spawn(process.execPath, [CLI, "worker", "--jobs", "1"], {
      cwd: registry.dir,
      env: cliEnv({
        ...registry.env,
        REPLAY_HOME: path.join(registry.dir, "w1"),
        REPLAY_BLOBS: registry.blobRoot,
      }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    worker.stderr?.on("data", (chunk: Buffer) => (workerLog += chunk.toString("utf8")));
    for (let i = 0; i < 300 && !workerLog.includes("step(s) at once"); i++) await sleep(100);
    expect(workerLog).toContain("step(s) at once");
    await sleep(4000); // a wake-up takes ~0.1 s, a poll 0.5 s: time for every job to be taken
    const rows = await registry.with((db) =>
      db.query<{ step_id: string; status: string; attempts: number }>(
        `SELECT step_id, status, attempts FROM replay_runner.batch_steps WHERE batch_id = $1 ORDER BY step_id`,
        [batchId],
      ),
    );
    expect(rows.map((r) => [r.step_id, r.attempts, r.status === "running" || r.status === "done"])).toEqual([
      ["s-fig", 0, false],
      ["s-raw", 0, false],
      ["s-up", 0, false],
    ]);
    // Every runnable step's job was taken (and ended with nothing run), none is left waiting.
    const jobs = await registry.with((db) =>
      db.query<{ step: string; state: string }>(
        `SELECT data->>'step_id' AS step, state FROM replay_runner_jobs.job WHERE data->>'batch_id' = $1 ORDER BY 1`,
        [batchId],
      ),
    );
    expect(jobs).toEqual([{ step: "s-raw", state: "completed" }]);
    const made = execFileSync("docker", ["ps", "-aq", "--filter", `label=org.replay-runner.run=${batchId}`], {
      encoding: "utf8",
    });
    expect(made).toBe("");

    const status = await cli(["verify", "--status", batchId, "--json"]);
    const progress = JSON.parse(status.stdout) as {
      status: string;
      error: string;
      finished_at: string | null;
    };
    expect([status.code, progress.status, progress.error]).toEqual([
      1,
      "interrupted",
      expect.stringMatching(new RegExp(`^cancelled \\(verify --cancel, process \\d+ on ${hostname()}\\)$`)),
    ]);
    expect(progress.finished_at).not.toBeNull();

    const again = await cli(["verify", "--cancel", batchId]);
    expect([again.code, again.stdout, again.stderr.split("\n")[0]]).toEqual([
      2,
      "",
      `error: Batch ${batchId} has already ended (interrupted); there is nothing to cancel.`,
    ]);
  }, 120_000);

  it("a step running when its batch is cancelled is stopped within a heartbeat, its container removed", async () => {
    expect(worker?.exitCode).toBeNull(); // the first test's worker, still running
    const out = path.join(registry.dir, "cancelled-mid-step");
    const queued = await cli(["verify", "slow", "--queue", "--json", "--out", out]);
    expect([queued.code, queued.stderr]).toEqual([0, ""]);
    const { batchId } = JSON.parse(queued.stdout) as { batchId: string };
    const stepState = async () =>
      (
        await registry.with((db) =>
          db.query<{ status: string }>(
            `SELECT status FROM replay_runner.batch_steps WHERE batch_id = $1 AND step_id = 's-slow'`,
            [batchId],
          ),
        )
      )[0]?.status;
    const containersOf = () =>
      execFileSync("docker", ["ps", "-aq", "--filter", `label=org.replay-runner.run=${batchId}`], {
        encoding: "utf8",
      });
    for (let i = 0; i < 600 && (containersOf() === "" || (await stepState()) !== "running"); i++)
      await sleep(100);
    expect([await stepState(), containersOf() === ""], workerLog).toEqual(["running", false]);

    const cancelled = await cli(["verify", "--cancel", batchId]);
    expect([cancelled.code, cancelled.stdout.split("\n")[0]]).toEqual([
      0,
      `cancelled batch ${batchId}: 1 of 2 step(s) done, 1 running (their workers stop them within seconds), nothing more starts`,
    ]);
    const line = `batch ${batchId}: step s-slow stopped, its batch has ended (cancelled or failed)`;
    // The worker's heartbeat (every 5 s) finds the batch ended; the step is stopped there.
    for (let i = 0; i < 300 && !workerLog.includes(line); i++) await sleep(100);
    expect(workerLog).toContain(line);
    for (let i = 0; i < 100 && containersOf() !== ""; i++) await sleep(100);
    expect(containersOf()).toBe("");
    expect(await stepState()).not.toBe("done");
  }, 120_000);

  it("refuses a batch an in-process verify runs, an unknown id and a selection (exit 2)", async () => {
    await registry.with((db) =>
      db.query(
        `INSERT INTO replay_runner.verifications (id, trigger, selection, status, out_dir, worker_id, worker_host, worker_pid, heartbeat_at)
         VALUES ('v-20261202T000000-inproc', 'command', 'fig', 'running', '/tmp/x', 'w-1', 'host-a', 4242, now())`,
      ),
    );
    const inProcess = await cli(["verify", "--cancel", "v-20261202T000000-inproc"]);
    expect([inProcess.code, inProcess.stdout, inProcess.stderr.split("\n")[0]]).toEqual([
      2,
      "",
      "error: Batch v-20261202T000000-inproc runs in one verify process (pid 4242 on host host-a), not on workers; --cancel stops queued batches.",
    ]);
    expect(inProcess.stderr).toContain("kill -INT 4242");
    const unknown = await cli(["verify", "--cancel", "v-20260101T000000-abcdef"]);
    expect([unknown.code, unknown.stderr.split("\n")[0]]).toEqual([
      2,
      'error: No batch "v-20260101T000000-abcdef" in the registry.',
    ]);
    const mixed = await cli(["verify", "fig", "--cancel", "v-1"]);
    expect([mixed.code, mixed.stderr.split("\n")[0]]).toEqual([
      2,
      "error: --cancel takes a batch id alone, not a selection or --queue/--status/--wait.",
    ]);
  }, 60_000);
});
