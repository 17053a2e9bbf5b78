/**
 * An environments row whose base_image is no image reference (empty, a space, a newline, an
 * escape sequence, upper case) is an environment problem of that step: a failed row whose reason
 * names the step, the env hash and what is wrong, nothing sent to the engine, and the rest of
 * the chain goes on. Before, an empty base_image crashed `rerun` (uncaught getaddrinfo
 * ENOTFOUND, exit 70, no manifest) and a space or a newline was an "internal error".
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { type CliResult, runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { leftoversOf, readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

const RAW = "a,b\n1,2\n";
const COPY = 'open("/out/output", "wb").write(open("/in/source", "rb").read())\n';
const MERGE =
  'import os\nopen("/out/output", "wb").write(b"".join(open("/in/" + n, "rb").read() for n in sorted(os.listdir("/in")) if n != "params.json"))\n';

/** base_image, and the reason's end. */
const BAD_IMAGES: Record<string, [string, string]> = {
  empty: [
    "",
    'base_image "" is not an image reference: it is empty (a repository name needs at least one component)',
  ],
  space: [
    "replay-base bookworm",
    'base_image "replay-base bookworm" is not an image reference: it contains a space at position 12',
  ],
  newline: [
    "replay-base:bookworm\nx",
    'base_image "replay-base:bookworm\\nx" is not an image reference: it contains a newline at position 21',
  ],
  escape: [
    "\u001b]0;pwned\u0007",
    'base_image "\\u001b]0;pwned\\u0007" is not an image reference: it contains the character U+001B at position 1',
  ],
  upper: [
    "Replay-Base:bookworm",
    'base_image "Replay-Base:bookworm" is not an image reference: its repository name "library/Replay-Base" must be lowercase',
  ],
};

describe.each(BACKENDS)("environments rows whose base_image is no image reference (%s)", (backend) => {
  let registry: TestRegistry;
  let result: CliResult;
  let manifest: Manifest;
  let digestBefore: string;
  const envHashes = new Map<string, string>();
  const out = () => path.join(registry.dir, "out");

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      const good = await f.environment("replay-base:bookworm", "none", "");
      await f.scriptStep({
        id: "s-good",
        source: "raw",
        target: "good",
        payload: RAW,
        script: COPY,
        envHash: good,
      });
      for (const [name, [image]] of Object.entries(BAD_IMAGES)) {
        const envHash = await f.environment(image, "none", "");
        envHashes.set(name, envHash);
        await f.scriptStep({
          id: `s-${name}`,
          source: "raw",
          target: name,
          payload: RAW,
          script: COPY,
          envHash,
        });
      }
      // Downstream of every bad step: it goes on with their recorded payloads.
      const names = ["good", ...Object.keys(BAD_IMAGES)];
      await f.scriptStep({
        id: "s-merge",
        target: "merged",
        stepType: "merge",
        payload: RAW.repeat(names.length),
        script: MERGE,
        inputs: names.map((n) => ({ name: n, artifactId: n })),
      });
    });
    digestBefore = await registryDigest(registry);
    result = await runCli(["rerun", "merged", "--out", out()], { env: registry.env, cwd: registry.dir });
    manifest = await readManifest(out());
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("ends as exit 1 with a full manifest, no internal error, and nothing lost", async () => {
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(/internal error|Unexpected error|ENOTFOUND/i);
    expect(Object.fromEntries(manifest.steps.map((s) => [s.step_id, s.status]))).toEqual({
      "s-raw": "verified",
      "s-good": "reproduced",
      "s-empty": "failed",
      "s-space": "failed",
      "s-newline": "failed",
      "s-escape": "failed",
      "s-upper": "failed",
      "s-merge": "reproduced",
    });
    expect(await registryDigest(registry)).toBe(digestBefore);
    expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out())).toEqual([]);
  });

  it.each(Object.keys(BAD_IMAGES))("fails s-%s naming the step, the env hash and what is wrong", (name) => {
    const row = rowOf(manifest, `s-${name}`);
    const [, problem] = BAD_IMAGES[name]!;
    expect(row).toMatchObject({ ok: false, environment: "invalid", image: null, output_hash_replayed: null });
    expect(row.reason).toBe(`step s-${name}: environment ${envHashes.get(name)!}: ${problem}`);
  });

  it("the rest of the chain goes on with the recorded payloads of the failed steps", () => {
    const merge = rowOf(manifest, "s-merge");
    expect(merge.ok).toBe(true);
    expect(merge.inputs.map((i) => [i.name, i.origin])).toEqual([
      ["good", "replayed"],
      ...Object.keys(BAD_IMAGES).map((n) => [n, "recorded"]),
    ]);
  });

  it("lineage names the invalid environments (exit 4), with nothing of the escape sequence raw", async () => {
    const lineage = await runCli(["lineage", "merged"], { env: registry.env, cwd: registry.dir });
    expect(lineage.code).toBe(4);
    expect(
      lineage.stdout.match(
        /\[env INVALID: row sha256:[0-9a-f]+… has a base_image that is no image reference\]/g,
      ),
    ).toHaveLength(5);
    expect(lineage.stderr).toMatch(
      /5 steps' environments are missing, altered or invalid: step s-empty \(invalid, env_hash sha256:/,
    );
    expect(lineage.stdout + lineage.stderr).not.toContain("\u001b]0;pwned");
  });
});

describe("record: run --base-image", () => {
  it("refuses a base image that is no image reference before anything runs (exit 2)", async () => {
    await using registry = await createTestRegistry("embedded");
    const result = await runCli(
      ["run", "transform", "--input", "nothing", "--code", "x.py", "--base-image", "a b"],
      {
        env: registry.env,
        cwd: registry.dir,
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "--base-image is not an image reference: it contains a space at position 2",
    );
  });
});
