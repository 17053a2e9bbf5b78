/**
 * SIGINT and SIGTERM during a long step: the container goes, the manifest says interrupted,
 * the exit code is 130 / 143. SIGKILL: the next replay reaps what the killed one left.
 */
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { CLI, cliEnv, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const COPY = `open("/out/output", "wb").write(open("/in/source", "rb").read())
`;
const SLEEPY = `import time
time.sleep(120)
open("/out/output", "w").write("never")
`;

function containersLabelled(label: string): string[] {
  const out = execFileSync("docker", ["ps", "-aq", "--filter", `label=${label}`], { encoding: "utf8" });
  return out.split("\n").filter((l) => l !== "");
}

function volumesLabelled(label: string): string[] {
  const out = execFileSync("docker", ["volume", "ls", "-q", "--filter", `label=${label}`], {
    encoding: "utf8",
  });
  return out.split("\n").filter((l) => l !== "");
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("interrupting a replay", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "x");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.scriptStep({ id: "s-slow", source: "raw", target: "slow", payload: "never", script: SLEEPY });
      await f.scriptStep({ id: "s-quick", source: "raw", target: "quick", payload: "x", script: COPY });
    });
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s removes the step's container and writes a manifest marked interrupted (exit %i)",
    async (signal, code) => {
      const out = path.join(registry.dir, `out-${signal}`);
      const child = spawn(process.execPath, [CLI, "rerun", "slow", "--out", out], {
        cwd: registry.dir,
        env: cliEnv(registry.env),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => {
        child.on("close", (c) => {
          resolve(c);
        });
      });
      const label = `org.replay-runner.pid=${child.pid}`;
      await waitFor(() => containersLabelled(label).length > 0, "the step's container");
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(stderr).toContain(`${signal}: stopping the replay`);
      expect(containersLabelled(label)).toEqual([]);
      expect(volumesLabelled(label)).toEqual([]);
      const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as Manifest;
      expect(manifest.interrupted).toBe(true);
      expect(manifest.status).toBe("interrupted");
      expect(manifest.steps.map((s) => [s.step_id, s.status])).toEqual([
        ["s-raw", "verified"],
        ["s-slow", "interrupted"],
      ]);
    },
  );

  it("after SIGKILL, the next replay removes the containers and volumes the killed one left", async () => {
    const child = spawn(
      process.execPath,
      [CLI, "rerun", "slow", "--out", path.join(registry.dir, "killed")],
      {
        cwd: registry.dir,
        env: cliEnv(registry.env),
        stdio: "ignore",
      },
    );
    const exited = new Promise((resolve) => child.on("close", resolve));
    const label = `org.replay-runner.pid=${child.pid}`;
    await waitFor(() => containersLabelled(label).length > 0, "the step's container");
    child.kill("SIGKILL");
    await exited;
    expect(containersLabelled(label).length).toBe(1); // the killed process could not clean up

    const next = await runCli(["rerun", "quick", "--out", path.join(registry.dir, "next")], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(next.code).toBe(0);
    // The staging folder is under this test's REPLAY_HOME: only this replay can have removed it.
    // The container may have been reaped already by another replay on this host (test files run
    // in parallel, and every replay removes the stale containers of its host).
    expect(next.stderr, next.stderr).toMatch(
      /removed [01] container\(s\), \d+ volume\(s\) and 1 staging folder\(s\) left by runs/,
    );
    expect(containersLabelled(label)).toEqual([]);
    expect(volumesLabelled(label)).toEqual([]);
  });
});
