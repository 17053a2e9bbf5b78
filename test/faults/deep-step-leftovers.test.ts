/**
 * Issue 12, item 2: clean-up must never change a verdict. A step that leaves a tree of folders
 * 3000 deep in /out (63 000 bytes of path, far past PATH_MAX) and writes a correct output
 * reproduces, and its staged folder is removed (fs.rm failed with ENAMETOOLONG: exit 70 after
 * REPRODUCED was printed, and `gc` could not remove it either). What cannot be removed at all
 * (a mount point in it) is a warning of the replay, never its verdict or exit code.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { ownStderr, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { apiOf, startServe, waitForReplay } from "../server/serve-process.js";
import { leftoversOf, readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

const RAW = "a,b\n1,2\n";
const NAME = "d".repeat(20);
const DEPTH = 3000;
/** Builds the tree with relative chdir() calls (inside the container: its own process). */
const DEEP_TREE = `import os
os.chdir("/out")
for _ in range(${DEPTH}):
    os.mkdir("${NAME}")
    os.chdir("${NAME}")
open("/out/output", "wb").write(open("/in/source", "rb").read())
`;
/** Makes /out/sub, then waits for the test to mount something there and say "go". */
const WAITS_FOR_MOUNT = `import os, time
os.mkdir("/out/sub")
for _ in range(2400):
    if os.path.exists("/out/go"):
        break
    time.sleep(0.05)
open("/out/output", "wb").write(open("/in/source", "rb").read())
`;

/** A tree `depth` folders deep at `root`, built bottom-up with short paths. */
async function deepTree(root: string, depth: number): Promise<void> {
  const spare = `${root}.up`;
  await mkdir(root);
  for (let i = 0; i < depth; i++) {
    await mkdir(spare);
    await rename(root, path.join(spare, NAME));
    await rename(spare, root);
  }
}

/** Mount points under `dir` (a removal may have moved one along with its parent folder). */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point.startsWith(`${dir}/`));
}

async function stagingEntries(home: string): Promise<string[]> {
  return readdir(path.join(home, "staging")).catch(() => []);
}

describe("a step's leftovers and clean-up", () => {
  let registry: TestRegistry;
  let digestBefore: string;

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.scriptStep({ id: "s-deep", source: "raw", target: "deep", payload: RAW, script: DEEP_TREE });
      await f.scriptStep({
        id: "s-mounted",
        source: "raw",
        target: "mounted",
        payload: RAW,
        script: WAITS_FOR_MOUNT,
      });
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    await registry.dispose();
  });

  it.each(["auto", "off"])(
    "reproduces a step that leaves a %s-mounts /out 3000 folders deep, and removes it all",
    async (mounts) => {
      const out = path.join(registry.dir, `deep-${mounts}`);
      const result = await runCli(["rerun", "deep", "--out", out], {
        env: { ...registry.env, REPLAY_HOST_MOUNTS: mounts },
        cwd: registry.dir,
      });
      expect(ownStderr(result.stderr)).toBe("");
      expect(result.code).toBe(0);
      const manifest = await readManifest(out);
      expect(manifest.status).toBe("reproduced");
      expect(manifest.warnings).toEqual([]);
      expect(rowOf(manifest, "s-deep")).toMatchObject({ ok: true, status: "reproduced" });
      expect(result.stdout).toMatch(/^REPRODUCED: 1 reproduced, 1 verified of 2 step\(s\)/m);
      expect(await stagingEntries(registry.home)).toEqual([]);
      expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
      expect(await strayFiles(out)).toEqual([]);
      expect(await registryDigest(registry)).toBe(digestBefore);
    },
  );

  it("under serve, the same replay succeeds and leaves nothing (it was failed with an internal error)", async () => {
    const server = await startServe(registry);
    try {
      const api = apiOf(server.url);
      const queued = await api.request("POST", "/api/artifacts/deep/rerun", { body: {} });
      expect(queued.status).toBe(202);
      const done = await waitForReplay(api, String(queued.json.replay_id), [
        "finished",
        "failed",
        "interrupted",
      ]);
      expect(done).toMatchObject({ status: "finished", verdict: "reproduced" });
      expect(done.error).toBeNull();
      expect(await stagingEntries(registry.home)).toEqual([]);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("gc removes a dead process's staging folder 3000 folders deep", async () => {
    const staging = path.join(registry.home, "staging");
    await mkdir(staging, { recursive: true });
    const stale = path.join(staging, "0123456789abcdef");
    // pid 999999999 is above Linux's pid_max: never alive.
    await writeFile(`${stale}.owner`, `999999999 ${os.hostname()}\n`);
    await mkdir(stale);
    await deepTree(path.join(stale, "s-stale"), DEPTH);
    const result = await runCli(["gc"], { env: registry.env, cwd: registry.dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^removed \d+ container\(s\), \d+ volume\(s\), 1 staging folder\(s\)\n0 replay\(s\) marked interrupted\n$/,
    );
    expect(await stagingEntries(registry.home)).toEqual([]);
  });

  it("a staged folder that cannot be removed is a warning of the replay, not its verdict", async () => {
    const out = path.join(registry.dir, "mounted");
    const replay = runCli(["rerun", "mounted", "--out", out], { env: registry.env, cwd: registry.dir });
    // The step made /out/sub: mount a tmpfs there on the host (a mount point cannot be removed).
    let sub: string | undefined;
    for (let i = 0; i < 1200 && sub === undefined; i++) {
      for (const proc of await stagingEntries(registry.home)) {
        for (const step of await readdir(path.join(registry.home, "staging", proc)).catch(() => [])) {
          const candidate = path.join(registry.home, "staging", proc, step, "out", "sub");
          if ((await readdir(candidate).catch(() => undefined)) !== undefined) sub = candidate;
        }
      }
      if (sub === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (sub === undefined) throw new Error("the step never made /out/sub");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", sub]);
    try {
      await writeFile(path.join(path.dirname(sub), "go"), "");
      const result = await replay;
      expect(result.code).toBe(0);
      const manifest = await readManifest(out);
      expect(manifest.status).toBe("reproduced");
      expect(rowOf(manifest, "s-mounted")).toMatchObject({
        ok: true,
        status: "reproduced",
        warnings: [
          "environment never pinned (env_hash is NULL): replayed in replay-base:bookworm with no packages",
        ],
      });
      expect(manifest.warnings).toHaveLength(1);
      expect(manifest.warnings[0]).toMatch(
        /^clean-up: step s-mounted: its staged files were not removed: cannot remove \/.*\/staging\/[0-9a-f]{16}\/s-\w+: EBUSY: /,
      );
      expect(result.stdout).toMatch(/^ {2}warning: clean-up: step s-mounted: /m);
      expect(result.stdout).toMatch(/^REPRODUCED: 1 reproduced, 1 verified of 2 step\(s\)/m);
      // The process's own folder stays too, with its owner file, for gc.
      expect(ownStderr(result.stderr)).toMatch(
        /^warning: staged files were left in \/.*\/staging\/[0-9a-f]{16} \(replay-runner gc removes them\): cannot remove .*: EBUSY: .*\n$/,
      );
      expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
      expect(await strayFiles(out)).toEqual([]);
    } finally {
      for (const point of await mountsUnder(registry.home)) execFileSync("umount", [point]);
    }
    const gc = await runCli(["gc"], { env: registry.env, cwd: registry.dir });
    expect(gc.stdout).toMatch(/, 1 staging folder\(s\)\n0 replay\(s\) marked interrupted\n$/);
    expect(await stagingEntries(registry.home)).toEqual([]);
  });
});
