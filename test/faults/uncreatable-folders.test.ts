/**
 * Issue 12, item 5: a folder that cannot be created (here: under /proc, where Node's recursive
 * mkdir retried forever at full CPU and ignored SIGINT and SIGTERM) is exit 6 at once, naming
 * the folder and why, wherever it is: --out, REPLAY_HOME's replays/ and staging/, the embedded
 * registry, the blob store.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { pidAlive } from "../../src/locks/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { type CliOptions, type CliResult, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { registryDigest } from "./fault-harness.js";

const RAW = "a,b\n1,2\n";
const COPY = 'open("/out/output", "wb").write(open("/in/source", "rb").read())\n';
/** Under /proc nothing can be created; the old code never returned from making it. */
const PROC_HOME = "/proc/rr-issue12-home";

/** The CLI, killed with SIGKILL if it has not ended within 30 s (a spinning mkdir ignores SIGTERM). */
async function runBounded(args: string[], options: CliOptions): Promise<CliResult> {
  let pid: number | undefined;
  const timer = setTimeout(() => {
    if (pid !== undefined && pidAlive(pid)) process.kill(pid, "SIGKILL");
  }, 30_000);
  try {
    return await runCli(args, { ...options, onSpawn: (p) => (pid = p) });
  } finally {
    clearTimeout(timer);
  }
}

function expectExit6(result: CliResult, message: RegExp): void {
  expect({ code: result.code, signal: result.signal }).toEqual({ code: 6, signal: null });
  expect(result.stderr).toMatch(message);
  expect(result.stderr).toMatch(/^hint: /m);
}

describe.each(["embedded", "postgres"] as const)("folders that cannot be created (%s)", (backend) => {
  let registry: TestRegistry;
  let digestBefore: string;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.scriptStep({ id: "s-copy", source: "raw", target: "copy", payload: RAW, script: COPY });
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    await registry.dispose();
  });

  it("--out under /proc is exit 6 at once, naming the folder", async () => {
    const result = await runBounded(["rerun", "raw", "--out", "/proc/rr-issue12/out"], {
      env: registry.env,
      cwd: registry.dir,
    });
    expectExit6(
      result,
      /^error: Cannot create the output folder \/proc\/rr-issue12\/out: the file system refuses to create \/proc\/rr-issue12 \(ENOENT\)\.$/m,
    );
    expect(await registryDigest(registry)).toBe(digestBefore);
  });

  it("a blob store under /proc is exit 6 when something is stored", async () => {
    const file = path.join(registry.dir, "data.csv");
    await writeFile(file, RAW);
    const result = await runBounded(["add", file], {
      env: { ...registry.env, REPLAY_BLOBS: "/proc/rr-issue12-blobs" },
      cwd: registry.dir,
    });
    expectExit6(
      result,
      /^error: Cannot create a folder of the blob store \/proc\/rr-issue12-blobs\/sha256: the file system refuses to create \/proc\/rr-issue12-blobs \(ENOENT\)\.$/m,
    );
    expect(await registryDigest(registry)).toBe(digestBefore);
  });

  if (backend === "embedded") {
    it("REPLAY_HOME under /proc: init cannot create the embedded registry, exit 6", async () => {
      const result = await runBounded(["init"], { env: { REPLAY_HOME: PROC_HOME }, cwd: registry.dir });
      expectExit6(
        result,
        /^error: Cannot create the embedded registry's folder \/proc\/rr-issue12-home\/registry: the file system refuses to create \/proc\/rr-issue12-home \(ENOENT\)\.$/m,
      );
    });
  } else {
    // With PostgreSQL, REPLAY_HOME only holds replays/ and staging/.
    it("REPLAY_HOME under /proc: the default output folder, exit 6", async () => {
      const result = await runBounded(["rerun", "raw"], {
        env: { ...registry.env, REPLAY_HOME: PROC_HOME },
        cwd: registry.dir,
      });
      expectExit6(
        result,
        /^error: Cannot create the output folder \/proc\/rr-issue12-home\/replays\/r-[0-9T]+-[0-9a-f]{6}: the file system refuses to create \/proc\/rr-issue12-home \(ENOENT\)\.$/m,
      );
    });

    it("REPLAY_HOME under /proc: the staging folder, exit 6 before any step runs", async () => {
      const out = path.join(registry.dir, "staging-out");
      const result = await runBounded(["rerun", "copy", "--out", out], {
        env: { ...registry.env, REPLAY_HOME: PROC_HOME },
        cwd: registry.dir,
      });
      expectExit6(
        result,
        /^error: Cannot create the staging folder \/proc\/rr-issue12-home\/staging: the file system refuses to create \/proc\/rr-issue12-home \(ENOENT\)\.$/m,
      );
      expect(result.stdout).toBe("");
      expect(await registryDigest(registry)).toBe(digestBefore);
    });
  }
});
