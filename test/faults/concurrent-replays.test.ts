/**
 * Replays that run at the same time: of one artifact into two folders (both succeed), into one
 * folder (the second is refused with exit 6, the first is intact), and two processes needing
 * the same environment image that does not exist yet (it is built once).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envImageTag } from "../../src/images/index.js";
import { runCli } from "../support/run-cli.js";
import { buildTestWheel } from "../support/test-wheel.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import {
  SLOW_RAW,
  leftoversOf,
  readManifest,
  recordSlowCopy,
  registryDigest,
  rowOf,
  strayFiles,
} from "./fault-harness.js";

const nonce = randomBytes(6).toString("hex");

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe("concurrent replays", () => {
  let registry: TestRegistry;
  let wheelhouse: string;
  let envTag: string;
  let digestBefore: string;
  const cli = (args: string[], extra: Parameters<typeof runCli>[1] = {}) =>
    runCli(args, { env: { ...registry.env, REPLAY_WHEELHOUSE: wheelhouse }, cwd: registry.dir, ...extra });

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    wheelhouse = await mkdtemp(path.join(os.tmpdir(), "rr-fault-wheels-"));
    const wheel = await buildTestWheel(wheelhouse, `faultprobe_${nonce}`, "1.0", `VALUE = "${nonce}"\n`);
    await registry.with(async (db) => {
      const f = await recordSlowCopy(db, registry.blobRoot, 3);
      const env = await f.environment("replay-base:bookworm", "pip", wheel.lockLine);
      envTag = envImageTag(env);
      await f.artifact("with-env", nonce);
      await f.step({
        id: "s-with-env",
        source: "raw",
        target: "with-env",
        stepType: "analysis",
        envHash: env,
        parameters: {
          code_hash: await f.blob(
            `import faultprobe_${nonce} as m\nopen("/out/output", "w").write(m.VALUE)\n`,
          ),
        },
      });
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    execFileSync("docker", ["rmi", "-f", envTag], { stdio: "ignore" });
    await rm(wheelhouse, { recursive: true, force: true });
    await registry.dispose();
  });

  it("two replays of one artifact into different folders both reproduce", async () => {
    const [a, b] = ["two-a", "two-b"].map((d) => path.join(registry.dir, d));
    const results = await Promise.all([
      cli(["rerun", "slow", "--out", a!]),
      cli(["rerun", "slow", "--out", b!]),
    ]);
    // A failure's stderr in the assertion: it says why.
    expect(results.map((r) => (r.code === 0 ? 0 : `${r.code}: ${r.stderr}`))).toEqual([0, 0]);
    const [ma, mb] = await Promise.all([readManifest(a!), readManifest(b!)]);
    expect(ma.replay_id).not.toBe(mb.replay_id);
    expect(rowOf(ma, "s-slow").output_hash_replayed).toBe(rowOf(mb, "s-slow").output_hash_replayed);
    for (const r of results) expect(await leftoversOf(r.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(a!)).toEqual([]);
    expect(await strayFiles(b!)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
  });

  it("a second replay into a folder in use gets exit 6 naming the first; the first is intact", async () => {
    const out = path.join(registry.dir, "shared");
    let firstPid: number | undefined;
    const first = cli(["rerun", "slow", "--out", out], { onSpawn: (pid) => (firstPid = pid) });
    const lock = path.join(out, ".replay.lock");
    for (let i = 0; i < 100 && !(await exists(lock)); i++) await sleep(100);
    const second = await cli(["rerun", "slow", "--out", out]);
    expect(second.code).toBe(6);
    expect(second.stderr).toMatch(
      new RegExp(
        `^error: The output folder .*/shared is in use by replay r-\\d{8}T\\d{6}-[0-9a-f]{6} \\(pid ${firstPid}\\)\\.$`,
        "m",
      ),
    );
    const done = await first;
    expect(done.code).toBe(0);
    const manifest = await readManifest(out);
    expect(rowOf(manifest, "s-slow").ok).toBe(true);
    expect(await readFile(path.join(out, "artifacts", "slow"), "utf8")).toBe(SLOW_RAW);
    expect(await strayFiles(out)).toEqual([]);
    expect(await leftoversOf(second.pid)).toEqual({ containers: [], volumes: [] });
  });

  it("two replays needing one new environment image build it once", async () => {
    expect(execFileSync("docker", ["images", "-q", envTag], { encoding: "utf8" })).toBe("");
    const [a, b] = ["env-a", "env-b"].map((d) => path.join(registry.dir, d));
    const results = await Promise.all([
      cli(["rerun", "with-env", "--out", a!]),
      cli(["rerun", "with-env", "--out", b!]),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const builds = results.flatMap((r) =>
      r.stderr.split("\n").filter((l) => l.startsWith(`building ${envTag}`)),
    );
    expect(builds).toHaveLength(1);
    const [ma, mb] = await Promise.all([readManifest(a!), readManifest(b!)]);
    const imageId = execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", envTag], {
      encoding: "utf8",
    }).trim();
    const images = [rowOf(ma, "s-with-env").image, rowOf(mb, "s-with-env").image];
    // One built it; the other waited for the build lock and found it (no image registry: no digest).
    expect(images.map((i) => i?.source).sort()).toEqual(["built", "local"]);
    for (const image of images) expect(image).toMatchObject({ ref: envTag, id: imageId, digest: null });
  });
});
