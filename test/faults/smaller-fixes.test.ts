/**
 * Issue 12, item 12 (the parts about bad data and the output folder): each case once ended in a
 * misleading number, the wrong exit code, a raw errno, a replay run for nothing, a whole chain
 * refused for one row, or 400 characters of path.
 */
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { ownStderr, runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

const RAW = "a,b\n1,2\n";
const EPOCH = 'import os\nopen("/out/output", "w").write(os.environ.get("SOURCE_DATE_EPOCH", "unset"))\n';
const UNPINNED =
  "environment never pinned (env_hash is NULL): replayed in replay-base:bookworm with no packages";

/** started_at values PostgreSQL holds, and the SOURCE_DATE_EPOCH each one means. */
const STARTED_AT = [
  // Beyond JavaScript's Date (275760 AD): computed from the text PostgreSQL returns.
  { id: "far", sql: "294276-12-31 00:00:00+00", epoch: "9224317929600" },
  // A Date holds it, but not in PostgreSQL's " BC" form.
  { id: "bc", sql: "4713-01-01 00:00:00+00 BC", epoch: "-210863520000" },
  { id: "inf", sql: "infinity", epoch: "unset" },
  { id: "neginf", sql: "-infinity", epoch: "unset" },
];

describe.each(BACKENDS)("registry values that a replay once got wrong (%s)", (backend) => {
  let registry: TestRegistry;
  let out: string;
  let digestBefore: string;
  let manifest: Awaited<ReturnType<typeof readManifest>>;
  let stdout: string;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      for (const t of STARTED_AT) {
        await f.scriptStep({ id: `s-${t.id}`, source: "raw", target: t.id, payload: t.epoch, script: EPOCH });
        await db.query("UPDATE processing_steps SET started_at = $2::timestamptz WHERE id = $1", [
          `s-${t.id}`,
          t.sql,
        ]);
      }
      await f.scriptStep({
        id: "s-tiny-timeout",
        source: "raw",
        target: "tiny-timeout",
        payload: RAW,
        script: EPOCH,
        parameters: { timeout_s: 1e-9 },
      });
      await f.scriptStep({
        id: "s-long-name",
        source: "raw",
        target: "long-name",
        payload: RAW,
        script: EPOCH,
        parameters: { code_name: "é".repeat(200) },
      });
      const ids = [...STARTED_AT.map((t) => t.id), "tiny-timeout", "long-name"];
      await f.artifact("all", "unused");
      await f.step({
        id: "s-all",
        target: "all",
        stepType: "merge",
        inputs: ids.map((id) => ({ name: id, artifactId: id })),
        parameters: { code_hash: await f.blob('open("/out/output", "w").write("unused")\n') },
      });
    });
    digestBefore = await registryDigest(registry);
    out = path.join(registry.dir, "out");
    const result = await runCli(["rerun", "all", "--out", out], { env: registry.env, cwd: registry.dir });
    expect(ownStderr(result.stderr)).toBe("");
    expect(result.code).toBe(1);
    stdout = result.stdout;
    manifest = await readManifest(out);
    expect(await strayFiles(out)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
  }, 300_000);

  afterAll(async () => {
    await registry.dispose();
  });

  it("takes SOURCE_DATE_EPOCH from any started_at PostgreSQL holds; only that step is affected", () => {
    expect(rowOf(manifest, "s-far")).toMatchObject({
      ok: true,
      recorded_started_at: "294276-12-31T00:00:00+00:00",
      warnings: [
        UNPINNED,
        'started_at "294276-12-31T00:00:00+00:00" lies beyond what a JavaScript date holds: SOURCE_DATE_EPOCH=9224317929600 is computed from the recorded text, and the files in /in and /code get mtime 0',
      ],
    });
    expect(rowOf(manifest, "s-bc")).toMatchObject({
      ok: true,
      recorded_started_at: "-004712-01-01T00:00:00.000Z",
      warnings: [UNPINNED],
    });
    for (const id of ["inf", "neginf"]) {
      const text = id === "inf" ? "infinity" : "-infinity";
      expect(rowOf(manifest, `s-${id}`)).toMatchObject({
        ok: true,
        recorded_started_at: text,
        warnings: [
          UNPINNED,
          `started_at is "${text}", no point in time: SOURCE_DATE_EPOCH is not set for this step`,
        ],
      });
    }
  });

  it("shows such a started_at as recorded (show, lineage --json)", async () => {
    const shown = await runCli(["show", "far"], { env: registry.env, cwd: registry.dir });
    expect(shown.stderr).toBe("");
    expect(shown.stdout).toContain("294276-12-31T00:00:00+00:00");
    const lineage = await runCli(["lineage", "inf", "--json"], { env: registry.env, cwd: registry.dir });
    const steps = (JSON.parse(lineage.stdout) as { steps: { id: string; started_at: string | null }[] })
      .steps;
    expect(steps.find((s) => s.id === "s-inf")?.started_at).toBe("infinity");
  });

  it("refuses a timeout_s too small to enforce, instead of reporting a limit of 0 s", () => {
    expect(rowOf(manifest, "s-tiny-timeout")).toMatchObject({
      ok: false,
      status: "failed",
      reason:
        "parameters.timeout_s must be at least 0.001 (one millisecond): a shorter limit cannot be enforced",
    });
  });

  it("refuses a code_name longer than a file name, and says so in a short line", () => {
    const reason =
      "parameters.code_name must be at most 255 bytes long in UTF-8, as a file name is (this one has 400)";
    expect(rowOf(manifest, "s-long-name")).toMatchObject({ ok: false, status: "failed", reason });
    const line = stdout.split("\n").find((l) => l.includes("s-long-name")) ?? "";
    expect(line).toContain(reason);
    expect(line.length).toBeLessThan(160);
  });
});

describe("the output folder and the settings, before anything runs", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.artifact("copy", RAW);
      await f.step({ id: "s-copy", source: "raw", target: "copy", stepType: "fork" });
    });
  });

  afterAll(async () => {
    await registry.dispose();
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { env: { ...registry.env, ...env }, cwd: registry.dir });

  it("REPLAY_BLOBS naming a file is a setting to fix (exit 2), not an output folder problem", async () => {
    const file = path.join(registry.dir, "blobs-file");
    await writeFile(file, "not a folder");
    const result = await cli(["rerun", "copy", "--out", path.join(registry.dir, "b")], {
      REPLAY_BLOBS: file,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `error: The blob store ${file} is a file, not a folder.\n` +
        "hint: Point REPLAY_BLOBS (or --blobs) at the blob store's root folder (the one that holds sha256/), on a disk you can write.\n",
    );
  });

  it("a dangling --out symbolic link is named, with where it points (exit 6)", async () => {
    const link = path.join(registry.dir, "dangling");
    await symlink(path.join(registry.dir, "gone", "away"), link);
    const result = await cli(["rerun", "copy", "--out", link]);
    expect(result.code).toBe(6);
    expect(ownStderr(result.stderr)).toMatch(
      new RegExp(
        `^error: Cannot create the output folder ${link}: ${link} is a symbolic link to ${registry.dir}/gone/away, which does not exist\\.\\n`,
      ),
    );
  });

  it("a manifest.json that is a folder is refused before any step runs (exit 6)", async () => {
    const out = path.join(registry.dir, "manifest-dir");
    await mkdir(path.join(out, "manifest.json"), { recursive: true });
    for (const extra of [[], ["--force"]]) {
      const result = await cli(["rerun", "copy", "--out", out, ...extra]);
      expect(result.code).toBe(6);
      expect(result.stdout).toBe("");
      expect(ownStderr(result.stderr)).toMatch(
        new RegExp(
          `^error: ${out}/manifest\\.json is a folder, not a file: this replay's manifest could not be written there\\.\\n`,
        ),
      );
    }
  });

  it("names the flag whose value is empty (exit 2)", async () => {
    for (const flag of ["--out", "--from"]) {
      const result = await cli(["rerun", "copy", flag, ""]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^error: ${flag} must not be empty\\n`));
    }
    const jobs = await cli(["rerun", "copy", "--jobs", "0"]);
    expect(jobs.stderr).toMatch(/^error: --jobs must be at least 1\n/);
  });
});
