/**
 * The infrastructure fails under a replay: an image build that fails, PostgreSQL unreachable at
 * start, the output disk full while the manifest is written. Each ends with a clear error (or a
 * failed row) and nothing lost. The engine and PostgreSQL restarted mid-run are in
 * service-restarts.test.ts, which runs alone.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { envImageTag } from "../../src/images/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { leftoversOf, readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

const RAW = "a,b\n1,2\n";
const COPY = 'open("/out/output", "wb").write(open("/in/source", "rb").read())\n';
const NO_WHEEL_LOCK = `nosuchwheel==1.0 --hash=sha256:${"0".repeat(64)}\n`;

describe("infrastructure faults", () => {
  let registry: TestRegistry;
  let wheelhouse: string;
  let digestBefore: string;
  let envTag: string;

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    wheelhouse = await mkdtemp(path.join(os.tmpdir(), "rr-fault-empty-wheels-"));
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      // A long method makes the manifest larger than what the full disk has left.
      await f.artifact("copy", RAW);
      await f.step({
        id: "s-copy",
        source: "raw",
        target: "copy",
        stepType: "transform",
        method: `copy ${"x".repeat(24_000)}`,
        parameters: { code_hash: await f.blob(COPY) },
      });
      const env = await f.environment("replay-base:bookworm", "pip", NO_WHEEL_LOCK);
      envTag = envImageTag(env);
      await f.artifact("unbuildable", RAW);
      await f.step({
        id: "s-unbuildable",
        source: "raw",
        target: "unbuildable",
        stepType: "analysis",
        envHash: env,
        parameters: { code_hash: await f.blob(COPY) },
      });
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    await rm(wheelhouse, { recursive: true, force: true });
    await registry.dispose();
  });

  it("a failed image build is a failed row with the build log's tail, and no image is left", async () => {
    const out = path.join(registry.dir, "build");
    const result = await runCli(["rerun", "unbuildable", "--out", out], {
      env: { ...registry.env, REPLAY_WHEELHOUSE: wheelhouse },
      cwd: registry.dir,
    });
    expect(result.code).toBe(1);
    const row = rowOf(await readManifest(out), "s-unbuildable");
    expect(row).toMatchObject({ ok: false, status: "failed", output_hash_replayed: null });
    expect(row.reason).toMatch(
      new RegExp(`^Building ${envTag} for environment sha256:[0-9a-f]{64} failed: `),
    );
    expect(row.reason).toMatch(/--- build log \(tail\) ---\n[\s\S]*nosuchwheel/);
    expect(execFileSync("docker", ["images", "-q", envTag], { encoding: "utf8" })).toBe("");
    expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
  });

  it("PostgreSQL unreachable at start is exit 3 naming the registry, and nothing is written", async () => {
    const out = path.join(registry.dir, "nopg");
    const result = await runCli(["rerun", "copy", "--out", out], {
      env: { ...registry.env, DATABASE_URL: "postgres://root@127.0.0.1:1/registry" },
      cwd: registry.dir,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: .*127\.0\.0\.1:1/m);
    expect(result.stderr).toMatch(/^hint: /m);
    expect(await strayFiles(out)).toEqual([]);
  });

  it("a disk full while writing the manifest is exit 6, with no half-written manifest", async () => {
    const disk = path.join(registry.dir, "small-disk");
    await mkdir(disk);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=128k", "tmpfs", disk]);
    try {
      // Two replays on one small disk: a folder holds one replay (a second one is refused).
      const cli = (out: string) =>
        runCli(["rerun", "copy", "--out", out], { env: registry.env, cwd: registry.dir });
      const first = path.join(disk, "first");
      expect((await cli(first)).code).toBe(0);
      const previous = await readFile(path.join(first, "manifest.json"), "utf8");
      expect(previous.length).toBeGreaterThan(24_000);
      // Leave room for the lock and the payload, not for a second manifest.
      const free = () =>
        Number(execFileSync("df", ["--output=avail", "-B1", disk], { encoding: "utf8" }).split("\n")[1]);
      await writeFile(path.join(disk, "filler"), Buffer.alloc(Math.max(0, free() - 16 * 1024)));
      const out = path.join(disk, "second");
      const result = await cli(out);
      expect(result.code).toBe(6);
      expect(result.stderr).toMatch(
        /^error: Cannot write manifest\.json in the output folder .*small-disk\/second: .*ENOSPC/m,
      );
      expect(await readdir(out)).toEqual(["artifacts"]);
      expect(await readFile(path.join(first, "manifest.json"), "utf8")).toBe(previous);
      expect(await strayFiles(disk)).toEqual([]);
      expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
      expect(await registryDigest(registry)).toBe(digestBefore);
    } finally {
      execFileSync("umount", [disk]);
    }
  });
});
