/**
 * SIGINT during a batch: the running step's container goes, batch.json and every target's
 * manifest say interrupted, the batch's row too, exit 130; an interrupted batch adds nothing
 * to the history. SIGKILL: the batch's row does not stay running: `gc` (or the next `verify`,
 * or serve's sweep) finds its process gone and marks it interrupted with the reason.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { BatchReport } from "../../src/fleet/index.js";
import { readManifest } from "../support/manifest-schema.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { CLI, cliEnv, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const SLEEPY = `import time
time.sleep(120)
open("/out/output", "w").write("never")
`;

function containersOf(pid: number | undefined): string[] {
  const out = execFileSync("docker", ["ps", "-aq", "--filter", `label=org.replay-runner.pid=${pid}`], {
    encoding: "utf8",
  });
  return out.split("\n").filter((l) => l !== "");
}

describe("interrupting a batch", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "x");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.scriptStep({ id: "s-slow", source: "raw", target: "slow", payload: "never", script: SLEEPY });
      await f.artifact("fig", "never", { type: "figure" });
      await f.step({ id: "s-fig", source: "slow", target: "fig", stepType: "fork" });
    });
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("SIGINT removes the container, marks everything interrupted and exits 130", async () => {
    const out = path.join(registry.dir, "batch");
    const child = spawn(process.execPath, [CLI, "verify", "slow", "fig", "--out", out], {
      cwd: registry.dir,
      env: cliEnv(registry.env),
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const deadline = Date.now() + 60_000;
    while (containersOf(child.pid).length === 0) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the step's container");
      await sleep(100);
    }
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(containersOf(child.pid)).toEqual([]);

    const report = JSON.parse(await readFile(path.join(out, "batch.json"), "utf8")) as BatchReport;
    expect(report.status).toBe("interrupted");
    expect(report.steps.map((s) => [s.step_id, s.status])).toEqual([
      ["s-raw", "verified"],
      ["s-slow", "interrupted"],
      ["s-fig", "interrupted"],
    ]);
    for (const target of ["slow", "fig"]) {
      const manifest = await readManifest(path.join(out, "targets", target));
      expect([manifest.status, manifest.interrupted]).toEqual(["interrupted", true]);
    }
    await registry.with(async (db) => {
      const rows = await db.query<{ status: string; verdict: string | null }>(
        `SELECT status, verdict FROM replay_runner.verifications WHERE id = $1`,
        [report.batch_id],
      );
      expect(rows).toEqual([{ status: "interrupted", verdict: null }]);
      const history = await db.query(`SELECT artifact_id FROM replay_runner.artifact_history`);
      expect(history).toEqual([]);
    });
  }, 120_000);

  it("a batch whose process was SIGKILLed is marked interrupted by gc, naming the dead owner", async () => {
    const out = path.join(registry.dir, "killed");
    const child = spawn(process.execPath, [CLI, "verify", "slow", "--out", out], {
      cwd: registry.dir,
      env: cliEnv(registry.env),
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const deadline = Date.now() + 60_000;
    while (containersOf(child.pid).length === 0) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the step's container");
      await sleep(100);
    }
    const running = await registry.with((db) =>
      db.query<{ id: string; status: string; worker_pid: number }>(
        `SELECT id, status, worker_pid FROM replay_runner.verifications WHERE out_dir = $1`,
        [out],
      ),
    );
    expect(running).toEqual([
      { id: expect.any(String) as unknown, status: "running", worker_pid: child.pid },
    ]);
    child.kill("SIGKILL");
    await exited;
    const gc = await runCli(["gc"], { env: registry.env, cwd: registry.dir });
    expect(gc.code).toBe(0);
    const batchId = running[0]?.id ?? "";
    expect(gc.stderr).toContain(
      `batch ${batchId}: marked interrupted: owner process ${child.pid} on host ${os.hostname()} is gone`,
    );
    // Its container: gone, by this gc or by any replay's start-up reaping meanwhile; gc also reaps
    // other test files' dead containers. The count is not this test's to assert; that none is left is.
    expect(gc.stdout).toMatch(/^removed \d+ container\(s\), /);
    expect(gc.stdout).toContain("0 replay(s) marked interrupted, 1 batch(es)\n");
    const rows = await registry.with((db) =>
      db.query<{ status: string; error: string }>(
        `SELECT status, error FROM replay_runner.verifications WHERE id = $1`,
        [batchId],
      ),
    );
    expect(rows).toEqual([
      {
        status: "interrupted",
        error: `interrupted: owner process ${child.pid} on host ${os.hostname()} is gone`,
      },
    ]);
    expect(containersOf(child.pid)).toEqual([]);
  }, 120_000);
});
