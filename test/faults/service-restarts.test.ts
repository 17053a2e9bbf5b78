/**
 * The Docker engine and PostgreSQL restarted while a replay runs. This file stops shared
 * services, so vitest.config.ts runs it in a group of its own, after every other file.
 * Each case ends with a clear outcome (never a hang), no container left, and the service back.
 */
import { execFileSync, spawn } from "node:child_process";
import { openSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";
import { dockerAnswers } from "../support/services.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import {
  leftoversOf,
  readManifest,
  recordSlowCopy,
  registryDigest,
  rowOf,
  strayFiles,
} from "./fault-harness.js";

async function waitFor(check: () => boolean, what: string, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 4; i++) {
    if (check()) return;
    await sleep(250);
  }
  throw new Error(`${what} did not come back within ${seconds} s`);
}

function startDockerd(): void {
  const log = openSync("/var/log/dockerd.log", "a");
  spawn("dockerd", [], { detached: true, stdio: ["ignore", log, log] }).unref();
}

function dockerdRunning(): boolean {
  try {
    execFileSync("pgrep", ["-x", "dockerd"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

function containersRunning(): boolean {
  return (
    execFileSync("docker", ["ps", "-q", "--filter", "label=org.replay-runner.step=s-slow"], {
      encoding: "utf8",
    }).trim() !== ""
  );
}

describe("services restarted mid-replay", () => {
  let registry: TestRegistry;
  let digestBefore: string;

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      await recordSlowCopy(db, registry.blobRoot, 6);
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    if (!dockerAnswers()) {
      if (!dockerdRunning()) startDockerd();
      await waitFor(dockerAnswers, "dockerd");
    }
    await registry.dispose();
  });

  /** Runs `rerun slow`, stops dockerd while the step runs, starts it again; returns the outcome. */
  async function rerunThroughEngineRestart(out: string, env: Record<string, string>) {
    const replay = runCli(["rerun", "slow", "--out", out], { env, cwd: registry.dir });
    try {
      await waitFor(containersRunning, "the step's container", 30);
      execFileSync("pkill", ["-x", "dockerd"]);
      await waitFor(() => !dockerdRunning(), "dockerd's exit", 30);
    } finally {
      startDockerd();
      await waitFor(dockerAnswers, "dockerd");
    }
    const result = await replay;
    return { result, row: rowOf(await readManifest(out), "s-slow") };
  }

  /** The run could not remove what the stopping engine still held; the next replay reaps it. */
  async function expectNothingLeft(pid: number | undefined, out: string): Promise<void> {
    const next = await runCli(
      ["rerun", "slow", "--out", path.join(out, "..", `${path.basename(out)}-after`)],
      {
        env: registry.env,
        cwd: registry.dir,
      },
    );
    expect(next.code).toBe(0);
    expect(await leftoversOf(pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
  }

  // A dockerd stopping answers the pending wait, then refuses the archive read (or is gone).
  const ENGINE_FAILED =
    /^the Docker engine failed during the step: (reading \/out\/output failed: |waiting for the step failed: |inspecting the stopped step failed: |The Docker engine .* does not answer)/;

  it("the Docker engine restarted during a step (archives): a failed row naming the engine, nothing left", async () => {
    const out = path.join(registry.dir, "engine-archives");
    const { result, row } = await rerunThroughEngineRestart(out, {
      ...registry.env,
      REPLAY_HOST_MOUNTS: "off",
    });
    expect(result.code, result.stdout).toBe(1);
    expect(row).toMatchObject({ ok: false, status: "failed", output_hash_replayed: null });
    expect(row.reason).toMatch(ENGINE_FAILED);
    await expectNothingLeft(result.pid, out);
  });

  it("the Docker engine restarted during a step (host mounts): the step's own outcome, or a row naming the engine; nothing left", async () => {
    const out = path.join(registry.dir, "engine-mounts");
    const { result, row } = await rerunThroughEngineRestart(out, registry.env);
    if (result.code === 0) {
      // The stopping engine let the step finish and answered its wait with status 0; the output
      // needs no engine with host mounts: its bytes were read from the host folder and hashed.
      expect(row).toMatchObject({ ok: true, status: "reproduced" });
    } else {
      expect(result.code, result.stdout).toBe(1);
      expect(row).toMatchObject({ ok: false, status: "failed", output_hash_replayed: null });
      expect(row.reason).toMatch(ENGINE_FAILED);
    }
    await expectNothingLeft(result.pid, out);
  });

  it("PostgreSQL restarted during a step: the replay ends (completes or a clear error), no hang", async () => {
    const out = path.join(registry.dir, "pg");
    const replay = runCli(["rerun", "slow", "--out", out], {
      env: registry.env,
      cwd: registry.dir,
      timeoutMs: 120_000,
    });
    await waitFor(containersRunning, "the step's container", 30);
    execFileSync("pg_ctlcluster", ["15", "main", "restart"], { stdio: "pipe" });
    const result = await replay;
    expect(result.signal).toBeNull();
    if (result.code === 0) {
      expect(rowOf(await readManifest(out), "s-slow").ok).toBe(true);
    } else {
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/^error: .*(PostgreSQL|registry|database)/im);
    }
    expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
  });
});
