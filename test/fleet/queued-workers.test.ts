/**
 * Queued batches on PostgreSQL: `verify --queue` stores the batch, two `worker` processes
 * (separate homes, one registry, one blob store) share its steps; one is SIGKILLed mid-step.
 * The batch completes; every container step ran to completion exactly once (the engine's
 * `die` events); no container is left; every target's manifest says what an in-process
 * `verify` of the same targets says.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { BatchReport } from "../../src/fleet/index.js";
import { readManifest } from "../support/manifest-schema.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { CLI, cliEnv, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

// Long enough for the kill to land mid-step; short enough for the retry.
const SLOW = `import time
time.sleep(6)
open("/out/output", "w").write(open("/in/source").read() + "-slow")
`;
const UPPER = `open("/out/output", "w").write(open("/in/source").read().upper())
`;
const LENGTH = `open("/out/output", "w").write(str(len(open("/in/source").read())))
`;

function containers(filter: string): string[] {
  return execFileSync("docker", ["ps", "-aq", "--filter", filter], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l !== "");
}

interface DieEvent {
  step: string;
  exitCode: string;
}

/** The engine's `die` events of the batch's containers, from now on. */
function watchDeaths(batchId: string): { events: DieEvent[]; stop(): void } {
  const events: DieEvent[] = [];
  const child = spawn(
    "docker",
    [
      "events",
      "--filter",
      "type=container",
      "--filter",
      "event=die",
      "--filter",
      `label=org.replay-runner.run=${batchId}`,
      "--format",
      "{{json .Actor.Attributes}}",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let buffer = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const attrs = JSON.parse(buffer.slice(0, nl)) as Record<string, string>;
      buffer = buffer.slice(nl + 1);
      events.push({ step: attrs["org.replay-runner.step"] ?? "?", exitCode: attrs.exitCode ?? "?" });
    }
  });
  return { events, stop: () => child.kill() };
}

describe("queued batches shared by workers", () => {
  let registry: TestRegistry;
  const workers: ChildProcess[] = [];
  /** The workers' stderr, for the assertion messages: a stuck batch says why there. */
  const logs: string[] = [];

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "abc");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.scriptStep({ id: "s-slow", source: "raw", target: "slow", payload: "abc-slow", script: SLOW });
      await f.scriptStep({ id: "s-up", source: "slow", target: "up", payload: "ABC-SLOW", script: UPPER });
      await f.scriptStep({ id: "s-len", source: "slow", target: "len", payload: "8", script: LENGTH });
      await f.artifact("fig-up", "ABC-SLOW", { type: "figure" });
      await f.step({ id: "s-fig-up", source: "up", target: "fig-up", stepType: "fork" });
    });
  });
  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await registry.dispose();
  });

  function startWorker(name: string): ChildProcess {
    const child = spawn(process.execPath, [CLI, "worker", "--jobs", "1"], {
      cwd: registry.dir,
      env: cliEnv({
        ...registry.env,
        REPLAY_HOME: path.join(registry.dir, name),
        REPLAY_BLOBS: registry.blobRoot,
      }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    workers.push(child);
    child.stderr.on("data", (chunk: Buffer) => logs.push(`[${name}] ${chunk.toString("utf8")}`));
    return child;
  }

  it("two workers, one SIGKILLed mid-step: the batch completes, each step ran once, nothing is left", async () => {
    const out = path.join(registry.dir, "queued");
    const queued = await runCli(["verify", "len", "fig-up", "--queue", "--json", "--out", out], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect([queued.code, queued.stderr]).toEqual([0, ""]);
    const batch = JSON.parse(queued.stdout) as {
      batchId: string;
      steps: number;
      runnable: number;
      targets: number;
    };
    expect([batch.targets, batch.steps, batch.runnable]).toEqual([2, 5, 1]);
    const deaths = watchDeaths(batch.batchId);
    await sleep(500); // docker events is listening

    const first = startWorker("home-a");
    await mkdir(path.join(registry.dir, "home-b"), { recursive: true });
    // The first worker runs the slow step: kill it there, then start the second.
    const deadline = Date.now() + 90_000;
    while (containers(`label=org.replay-runner.pid=${first.pid}`).length === 0) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the first worker's container");
      await sleep(100);
    }
    await sleep(1000);
    first.kill("SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));
    // Started after the death: its first sweep finds the dead pid, with most of the slow step
    // left. One running all along would find it only at its next 5 s sweep, after which the
    // dead worker's 6 s step may already have finished in its orphaned container.
    const second = startWorker("home-b");

    const status = await runCli(["verify", "--status", batch.batchId, "--wait"], {
      env: registry.env,
      cwd: registry.dir,
      timeoutMs: 120_000,
    });
    const written = await readFile(path.join(out, "batch.json"), "utf8").catch(() => "(no batch.json)");
    expect([status.code, status.stderr], `${logs.join("")}${written}`).toEqual([0, ""]);
    expect(status.stdout).toContain(`batch ${batch.batchId}: finished (reproduced)\n  steps: 5 of 5 done`);
    second.kill("SIGTERM");
    await new Promise((resolve) => second.on("close", resolve));
    await sleep(500);
    deaths.stop();

    // Completed runs (exit 0) per container step: exactly one each; the killed one died otherwise.
    const completed = deaths.events
      .filter((e) => e.exitCode === "0")
      .map((e) => e.step)
      .sort();
    expect(completed).toEqual(["s-len", "s-slow", "s-up"]);
    expect(deaths.events.filter((e) => e.step === "s-slow" && e.exitCode !== "0")).toHaveLength(1);
    expect(containers(`label=org.replay-runner.run=${batch.batchId}`)).toEqual([]);

    const rows = await registry.with((db) =>
      db.query<{ step_id: string; status: string; attempts: number }>(
        `SELECT step_id, status, attempts FROM replay_runner.batch_steps WHERE batch_id = $1 ORDER BY position`,
        [batch.batchId],
      ),
    );
    expect(rows.map((r) => [r.step_id, r.status, r.attempts])).toEqual([
      ["s-raw", "done", 1],
      ["s-slow", "done", 2],
      ["s-len", "done", 1],
      ["s-up", "done", 1],
      ["s-fig-up", "done", 1],
    ]);

    const report = JSON.parse(await readFile(path.join(out, "batch.json"), "utf8")) as BatchReport;
    expect([report.status, report.summary.reproduced, report.summary.steps]).toEqual(["reproduced", 2, 5]);

    // The same targets verified in one process: the same rows, step for step.
    const local = path.join(registry.dir, "local");
    const inProcess = await runCli(["verify", "len", "fig-up", "--json", "--out", local], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(inProcess.code).toBe(0);
    const essentials = (m: Awaited<ReturnType<typeof readManifest>>) =>
      m.steps.map((s) => [
        s.step_id,
        s.status,
        s.output_hash_replayed,
        s.input_hash_replayed,
        s.inputs,
        s.payload,
      ]);
    for (const target of ["len", "fig-up"]) {
      const queuedManifest = await readManifest(path.join(out, "targets", target));
      const localManifest = await readManifest(path.join(local, "targets", target));
      expect(essentials(queuedManifest)).toEqual(essentials(localManifest));
      expect(queuedManifest.status).toBe("reproduced");
    }
    // The replayed payloads are where the manifests say, byte for byte.
    expect(await readFile(path.join(out, "artifacts", "up"), "utf8")).toBe("ABC-SLOW");
  }, 240_000);
});
