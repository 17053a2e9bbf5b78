/**
 * Registry rows are hostile input: each bad row ends as a manifest row with `ok: false` and a
 * reason naming what is wrong, the replay goes on with the rest, and nothing is written back.
 * One replay of a merge over every bad step covers them all.
 */
import { access, readFile, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { contentHashOf } from "../../src/hashing/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { type CliResult, ownStderr, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { leftoversOf, readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

const RAW = "a,b\n1,2\n";
const COPY = 'open("/out/output", "wb").write(open("/in/source", "rb").read())\n';
const ARGV =
  'import json, sys\nopen("/out/output", "w").write(json.dumps(sys.argv[1:], separators=(",", ":")))\n';
const HOSTILE_ARGS = ["; rm -rf /", "$(touch /tmp/pwned)", "`id`", "a b", "*", "|| true"];
const PWNED = "/tmp/pwned";

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe("bad registry data, through rerun", () => {
  let registry: TestRegistry;
  let out: string;
  let result: CliResult;
  let manifest: Manifest;
  let digestBefore: string;
  let codeHash: string;
  let missingCode: string;
  let alteredEnv: string;

  beforeAll(async () => {
    await rm(PWNED, { force: true });
    registry = await createTestRegistry("postgres");
    const blobs = new BlobStore(registry.blobRoot);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, blobs);
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      codeHash = await f.blob(COPY);
      const bad: { id: string; parameters?: unknown; stepType?: string; options?: object }[] = [
        { id: "code-type", parameters: { code_hash: 42 } },
        { id: "timeout-type", parameters: { code_hash: codeHash, timeout_s: "60" } },
        { id: "memory-type", parameters: { code_hash: codeHash, memory_mb: -5 } },
        {
          id: "command-string",
          parameters: { code_hash: codeHash, command: "python3 /code/main.py; rm -rf /" },
        },
        { id: "command-empty", parameters: { code_hash: codeHash, command: [] } },
        { id: "command-nested", parameters: { code_hash: codeHash, command: ["python3", ["x"]] } },
        { id: "code-name-traversal", parameters: { code_hash: codeHash, code_name: "../../etc/passwd" } },
        { id: "parameters-array", parameters: ["not", "an", "object"] },
        { id: "unknown-type", parameters: { code_hash: codeHash }, stepType: "quantum_teleport" },
      ];
      for (const b of bad) {
        await f.artifact(b.id, RAW);
        await f.step({
          id: `s-${b.id}`,
          source: "raw",
          target: b.id,
          stepType: b.stepType ?? "transform",
          parameters: b.parameters,
        });
      }
      // Hostile characters in argv reach the script as plain, separate arguments.
      await f.artifact("argv", JSON.stringify(HOSTILE_ARGS));
      await f.step({
        id: "s-argv",
        source: "raw",
        target: "argv",
        stepType: "transform",
        parameters: { code_hash: await f.blob(ARGV), command: ["python3", "/code/main.py", ...HOSTILE_ARGS] },
      });
      // The script's blob is gone.
      missingCode = contentHashOf(Buffer.from("print('lost')\n"));
      await f.artifact("code-missing", RAW);
      await f.step({
        id: "s-code-missing",
        source: "raw",
        target: "code-missing",
        stepType: "transform",
        parameters: { code_hash: missingCode },
      });
      // The output reproduces, but the recorded hashes give nothing to compare with.
      await f.artifact("hash-malformed", RAW, { contentHash: "abc" });
      await f.step({
        id: "s-hash-malformed",
        source: "raw",
        target: "hash-malformed",
        stepType: "transform",
        parameters: { code_hash: codeHash },
      });
      await f.artifact("input-hash-null", RAW);
      await f.step({
        id: "s-input-hash-null",
        source: "raw",
        target: "input-hash-null",
        stepType: "transform",
        inputHash: null,
        parameters: { code_hash: codeHash },
      });
      // An environment row changed after it was recorded, and one whose base image cannot exist.
      alteredEnv = await f.environment("replay-base:bookworm", "none", "");
      await db.query("UPDATE environments SET requirements_lock = 'evil==6.6.6' WHERE env_hash = $1", [
        alteredEnv,
      ]);
      await f.artifact("env-altered", RAW);
      await f.step({
        id: "s-env-altered",
        source: "raw",
        target: "env-altered",
        stepType: "transform",
        envHash: alteredEnv,
        parameters: { code_hash: codeHash },
      });
      const noBase = await f.environment("nonexistent:1", "none", "");
      await f.artifact("env-no-base", RAW);
      await f.step({
        id: "s-env-no-base",
        source: "raw",
        target: "env-no-base",
        stepType: "transform",
        envHash: noBase,
        parameters: { code_hash: codeHash },
      });
      const ids = [
        ...bad.map((b) => b.id),
        "argv",
        "code-missing",
        "input-hash-null",
        "env-altered",
        "env-no-base",
      ];
      await f.artifact("all", "unused");
      await f.step({
        id: "s-all",
        target: "all",
        stepType: "merge",
        inputs: ids.map((id) => ({ name: id, artifactId: id })),
        parameters: { code_hash: await f.blob('open("/out/output", "w").write("unused")\n') },
      });
    });
    await unlink(blobs.pathFor(missingCode)).catch(() => undefined);
    digestBefore = await registryDigest(registry);
    out = path.join(registry.dir, "out");
    result = await runCli(["rerun", "all", "--out", out], { env: registry.env, cwd: registry.dir });
    expect(ownStderr(result.stderr)).toBe("");
    manifest = await readManifest(out);
  }, 300_000);

  afterAll(async () => {
    await registry.dispose();
  });

  it("ends as exit 1 with a full manifest, and nothing lost", async () => {
    expect(result.code).toBe(1);
    expect(manifest.steps).toHaveLength(16);
    expect(await registryDigest(registry)).toBe(digestBefore);
    expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out)).toEqual([]);
  });

  it.each([
    ["code-type", "parameters.code_hash Invalid input: expected string, received number"],
    ["timeout-type", "parameters.timeout_s Invalid input: expected number, received string"],
    ["memory-type", "parameters.memory_mb Too small: expected number to be >=16"],
    ["command-string", "parameters.command Invalid input: expected array, received string"],
    ["command-empty", "parameters.command Too small: expected array to have >=1 items"],
    ["command-nested", "parameters.command.1 Invalid input: expected string, received array"],
    ["code-name-traversal", "parameters.code_name must be a plain file name (no '/', not '.' or '..')"],
    ["parameters-array", "parameters Invalid input: expected object, received array"],
  ])("refuses malformed parameters (%s) before any container exists", (id, reason) => {
    expect(rowOf(manifest, `s-${id}`)).toMatchObject({
      ok: false,
      status: "failed",
      output_hash_replayed: null,
      image: null,
      reason,
    });
  });

  it("hands shell metacharacters to the step as plain argv elements, never to a shell", async () => {
    expect(rowOf(manifest, "s-argv")).toMatchObject({ ok: true, reason: null });
    expect(JSON.parse(await readFile(path.join(out, "artifacts", "argv"), "utf8"))).toEqual(HOSTILE_ARGS);
    expect(await exists(PWNED)).toBe(false);
  });

  it("reports an unknown step type as unreplayable, naming it", () => {
    expect(rowOf(manifest, "s-unknown-type")).toMatchObject({
      ok: false,
      status: "unreplayable",
      reason: 'step type "quantum_teleport" has no known semantics: replay-runner has no handler for it',
    });
  });

  it("fails a step whose code blob is missing, naming the hash", () => {
    const row = rowOf(manifest, "s-code-missing");
    expect(row.ok).toBe(false);
    expect(row.reason).toBe(
      `code blob ${missingCode} is missing: ${new BlobStore(registry.blobRoot).pathFor(missingCode)}`,
    );
  });

  it("refuses a malformed recorded content_hash before anything runs (exit 4), naming the row", async () => {
    const elsewhere = path.join(registry.dir, "malformed");
    const bad = await runCli(["rerun", "hash-malformed", "--out", elsewhere], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain(
      `artifacts row "hash-malformed": column content_hash is not 'sha256:' followed by 64 lowercase hex digits (found "abc")`,
    );
    expect(await exists(path.join(elsewhere, "manifest.json"))).toBe(false);
    expect(await strayFiles(elsewhere)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
  });

  it("is never ok without a recorded input_hash to compare with", () => {
    expect(rowOf(manifest, "s-input-hash-null")).toMatchObject({
      ok: false,
      status: "mismatch",
      output_hash_replayed: contentHashOf(Buffer.from(RAW)),
      reason:
        "output is identical, but the step has no recorded input_hash: nothing proves it consumed these inputs",
    });
  });

  it("refuses an environment row that no longer matches its hash", () => {
    const row = rowOf(manifest, "s-env-altered");
    expect(row.ok).toBe(false);
    expect(row.reason).toMatch(
      new RegExp(`^environment row ${alteredEnv} was altered: its columns hash to sha256:[0-9a-f]{64}$`),
    );
  });

  it("fails a step whose base image cannot be had, naming the image", () => {
    expect(rowOf(manifest, "s-env-no-base")).toMatchObject({
      ok: false,
      status: "failed",
      reason:
        "The base image nonexistent:1 is not in the Docker engine, and replay-runner does not pull it (only replay-base:bookworm is shared through REPLAY_IMAGE_REGISTRY).",
    });
  });
});
