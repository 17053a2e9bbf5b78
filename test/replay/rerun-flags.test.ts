/**
 * Each flag of `rerun` changes an outcome that this file asserts, so a flag that were ignored
 * would fail its test.
 */
import { access, chmod, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { contentHashOf } from "../../src/hashing/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { ownStderr, runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const RAW = "a,b\n1,2\n";
const CORRUPTED = "a,b\n1,3\n";
const UPPER = `import json
open("/out/output", "w").write(open("/in/source").read().upper())
`;
const SLOW_COPY = `import time
time.sleep(1.5)
open("/out/output", "wb").write(open("/in/source", "rb").read())
`;
const JOIN = `open("/out/output", "w").write(open("/in/left").read() + open("/in/right").read())
`;
const CLOCK = `import time
open("/out/output", "w").write("line one\\nrun at %d\\nline three\\n" % time.time_ns())
`;

// 128 MiB: hashing it takes ~0.1 s, far longer than starting the step that reads it.
const BIG = Buffer.alloc(128 * 2 ** 20, "big frozen input ");
const SIZE = `import os
open("/out/output", "w").write(str(os.path.getsize("/in/source")))
`;

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as Manifest;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe.each(BACKENDS)("rerun flags (%s)", (backend) => {
  let registry: TestRegistry;
  let blobs: BlobStore;
  const cli = (args: string[]) => runCli(args, { env: registry.env, cwd: registry.dir });

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    blobs = new BlobStore(registry.blobRoot);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, blobs);
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      // The recorded "upper" payload is wrong: replaying s-upper mismatches, unless --from skips it.
      await f.scriptStep({
        id: "s-upper",
        source: "raw",
        target: "upper",
        payload: "NOT WHAT THE SCRIPT WRITES\n",
        script: UPPER,
      });
      await f.scriptStep({
        id: "s-left",
        source: "upper",
        target: "left",
        payload: "NOT WHAT THE SCRIPT WRITES\n",
        script: SLOW_COPY,
      });
      await f.scriptStep({ id: "s-right", source: "raw", target: "right", payload: RAW, script: SLOW_COPY });
      await f.scriptStep({
        id: "s-join",
        target: "joined",
        payload: `NOT WHAT THE SCRIPT WRITES\n${RAW}`,
        stepType: "merge",
        inputs: [
          { name: "left", artifactId: "left" },
          { name: "right", artifactId: "right" },
        ],
        script: JOIN,
      });
      // A chain that reproduces fully.
      await f.scriptStep({
        id: "s-ok-upper",
        source: "raw",
        target: "ok-upper",
        payload: RAW.toUpperCase(),
        script: UPPER,
      });
      // A text step whose output carries the clock.
      await f.scriptStep({
        id: "s-clock",
        source: "raw",
        target: "clocked",
        payload: "line one\nrun at 0000000000000000000\nline three\n",
        script: CLOCK,
      });
      // A frozen input big enough that checking it takes a while: its consumer does not wait.
      await f.artifact("big", BIG);
      await f.step({ id: "s-big", target: "big", stepType: "ingest", inputHash: null });
      await f.scriptStep({
        id: "s-big-size",
        source: "big",
        target: "big-size",
        payload: String(BIG.length),
        script: SIZE,
      });
      // A frozen input whose blob is gone.
      await f.artifact("lost", "these bytes were lost", { storeBlob: false });
      await f.step({ id: "s-lost", target: "lost", stepType: "ingest", inputHash: null });
      await f.scriptStep({
        id: "s-from-lost",
        source: "lost",
        target: "from-lost",
        payload: "THESE BYTES WERE LOST",
        script: UPPER,
      });
    });
  });
  afterAll(async () => {
    await registry.dispose();
  });

  /** Overwrites raw's blob with CORRUPTED; returns its recorded hash and how to put it back. */
  async function corruptRawBlob(): Promise<{ hash: string; restore: () => Promise<void> }> {
    const hash = (
      await registry.with((db) =>
        db.query<{ content_hash: string }>("SELECT content_hash FROM artifacts WHERE id = 'raw'"),
      )
    )[0]!.content_hash;
    const file = blobs.pathFor(hash);
    await chmod(file, 0o644);
    await writeFile(file, CORRUPTED);
    return { hash, restore: () => writeFile(file, RAW) };
  }

  it("exits 0 when every step reproduced, and writes to a new folder under REPLAY_HOME without --out", async () => {
    const result = await cli(["rerun", "ok-upper"]);
    expect(ownStderr(result.stderr)).toBe("");
    expect(result.code).toBe(0);
    const folder = /manifest: (.*manifest\.json)/.exec(result.stdout)?.[1];
    expect(folder).toMatch(/^\.replay\/replays\/r-\d{8}T\d{6}-[0-9a-f]{6}\/manifest\.json$/);
    const manifest = JSON.parse(await readFile(path.join(registry.dir, folder!), "utf8")) as Manifest;
    expect(manifest.status).toBe("reproduced");
    expect(manifest.steps.map((s) => [s.step_id, s.ok])).toEqual([
      ["s-raw", true],
      ["s-ok-upper", true],
    ]);
    expect(result.stdout).toMatch(/✓ reproduced\s+s-ok-upper/);
    expect(result.stdout).toMatch(/REPRODUCED: 1 reproduced, 1 verified of 2 step\(s\)/);
  });

  it("--out writes the manifest and the replayed payloads where it says", async () => {
    const out = path.join(registry.dir, "chosen");
    const result = await cli(["rerun", "ok-upper", "--out", out]);
    expect(result.code).toBe(0);
    expect((await readManifest(out)).target.artifact_id).toBe("ok-upper");
    expect(await readFile(path.join(out, "artifacts", "ok-upper"), "utf8")).toBe(RAW.toUpperCase());
  });

  it("--from freezes the steps upstream of the named step", async () => {
    const whole = path.join(registry.dir, "whole");
    const fromLeft = path.join(registry.dir, "from-left");
    expect((await cli(["rerun", "joined", "--out", whole])).code).toBe(1);
    const all = await readManifest(whole);
    expect(all.first_divergence?.step_id).toBe("s-upper");
    expect(all.steps.map((s) => s.step_id).sort()).toEqual([
      "s-join",
      "s-left",
      "s-raw",
      "s-right",
      "s-upper",
    ]);

    const result = await cli(["rerun", "joined", "--from", "s-left", "--out", fromLeft]);
    expect(result.code).toBe(0);
    const partial = await readManifest(fromLeft);
    expect(partial.steps.map((s) => s.step_id).sort()).toEqual(["s-join", "s-left", "s-right"]);
    expect(partial.frozen_inputs).toContainEqual({
      artifact_id: "upper",
      content_hash: all.steps.find((s) => s.step_id === "s-upper")!.output_hash_live,
      why: "upstream of --from s-left",
    });
    expect(partial.steps.every((s) => s.ok)).toBe(true);
  });

  it("--from a step outside the chain is a usage error", async () => {
    const result = await cli(["rerun", "joined", "--from", "s-clock"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Step s-clock is not in the chain behind joined.");
  });

  it("--jobs 1 runs one step at a time; --jobs 2 runs independent branches together", async () => {
    const overlap = (m: Manifest) => {
      const [l, r] = ["s-left", "s-right"].map((id) => m.steps.find((s) => s.step_id === id)!);
      return (
        Date.parse(l!.started_at!) < Date.parse(r!.finished_at!) &&
        Date.parse(r!.started_at!) < Date.parse(l!.finished_at!)
      );
    };
    const one = path.join(registry.dir, "jobs1");
    const two = path.join(registry.dir, "jobs2");
    await cli(["rerun", "joined", "--from", "s-left", "--jobs", "1", "--out", one]);
    await cli(["rerun", "joined", "--from", "s-left", "--jobs", "2", "--out", two]);
    expect((await readManifest(one)).options.jobs).toBe(1);
    expect(overlap(await readManifest(one))).toBe(false);
    expect(overlap(await readManifest(two))).toBe(true);
  });

  it("--jobs must be a positive whole number", async () => {
    const result = await cli(["rerun", "joined", "--jobs", "zero"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--jobs must be a whole number");
  });

  it("--diff explains what differs: diffoscope's reports, and one line on the terminal", async () => {
    const plain = path.join(registry.dir, "no-diff");
    const withDiff = path.join(registry.dir, "with-diff");
    expect((await cli(["rerun", "clocked", "--out", plain])).code).toBe(1);
    expect(await exists(path.join(plain, "diffs"))).toBe(false);
    const result = await cli(["rerun", "clocked", "--diff", "--out", withDiff]);
    expect(result.code).toBe(1);
    const row = (await readManifest(withDiff)).steps.find((s) => s.step_id === "s-clock")!;
    expect(row.diff).toMatchObject({
      tool: expect.stringMatching(/^diffoscope \d+/) as unknown,
      files: { text: "diffs/s-clock.txt", html: "diffs/s-clock.html", json: "diffs/s-clock.json" },
      truncated: false,
    });
    expect(row.diff!.explanation).toMatch(/^1 line differs, first "run at \d{19}"$/);
    const text = await readFile(path.join(withDiff, row.diff!.files.text), "utf8");
    expect(text).toContain("-run at 0000000000000000000\n+run at ");
    expect(text).toContain(" line one\n");
    expect(result.stdout).toContain(`diff  ${row.diff!.explanation}\n`);
  });

  it("without --strict, a missing frozen blob is a failed row and the replay goes on", async () => {
    const out = path.join(registry.dir, "lenient");
    const result = await cli(["rerun", "from-lost", "--out", out]);
    expect(result.code).toBe(1);
    const rows = (await readManifest(out)).steps;
    expect(rows.map((r) => [r.step_id, r.status])).toEqual([
      ["s-lost", "failed"],
      ["s-from-lost", "failed"],
    ]);
    expect(rows[0]!.reason).toMatch(/^frozen input blob is missing: .*\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    expect(rows[1]!.reason).toMatch(/^frozen input lost: blob sha256:[0-9a-f]{64} is missing/);
  });

  it("a step starts on its frozen input while the input's check still runs", async () => {
    const out = path.join(registry.dir, "speculative");
    expect((await cli(["rerun", "big-size", "--out", out])).code).toBe(0);
    const [ingest, consumer] = (await readManifest(out)).steps;
    expect([ingest?.step_id, ingest?.ok, consumer?.step_id, consumer?.ok]).toEqual([
      "s-big",
      true,
      "s-big-size",
      true,
    ]);
    expect(Date.parse(consumer!.started_at!)).toBeLessThan(Date.parse(ingest!.finished_at!));
  });

  it("without --strict, a step whose frozen input is corrupted runs on the bytes there are, and inherits the mismatch", async () => {
    const { hash, restore } = await corruptRawBlob();
    const out = path.join(registry.dir, "corrupted");
    try {
      expect((await cli(["rerun", "ok-upper", "--out", out])).code).toBe(1);
    } finally {
      await restore();
    }
    const manifest = await readManifest(out);
    const [ingest, upper] = manifest.steps;
    const actual = contentHashOf(CORRUPTED);
    expect(ingest).toMatchObject({
      step_id: "s-raw",
      status: "mismatch",
      reason: `frozen blob is corrupted: its bytes hash to ${actual}, the registry records ${hash}`,
    });
    expect(upper).toMatchObject({
      step_id: "s-ok-upper",
      status: "mismatch",
      divergence: "inherited",
      inputs: [{ name: "source", artifact_id: "raw", content_hash: actual, origin: "replayed" }],
      output_hash_replayed: contentHashOf("A,B\n1,3\n"),
    });
    expect(await readFile(path.join(out, "artifacts", "ok-upper"), "utf8")).toBe("A,B\n1,3\n");
    expect(manifest.first_divergence?.step_id).toBe("s-raw");
  });

  it("--strict aborts before anything runs, naming the artifact and its hash", async () => {
    const out = path.join(registry.dir, "strict");
    const result = await cli(["rerun", "from-lost", "--strict", "--out", out]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/--strict: 1 frozen input\(s\) cannot be trusted; nothing was run\./);
    expect(result.stderr).toMatch(/frozen input lost: blob sha256:[0-9a-f]{64} is missing/);
    expect(await exists(path.join(out, "manifest.json"))).toBe(false);
  });

  it("--strict also catches a corrupted blob, with both hashes", async () => {
    const { hash, restore } = await corruptRawBlob();
    try {
      const result = await cli([
        "rerun",
        "ok-upper",
        "--strict",
        "--out",
        path.join(registry.dir, "strict2"),
      ]);
      expect(result.code).toBe(5);
      expect(result.stderr).toContain(`frozen input raw: blob bytes hash to sha256:`);
      expect(result.stderr).toContain(`the registry records ${hash}`);
    } finally {
      await restore();
    }
  });

  it("an unknown artifact is exit 2 with a hint", async () => {
    const result = await cli(["rerun", "no-such-artifact"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no-such-artifact/);
    expect(result.stderr).toMatch(/^hint: /m);
  });

  it("an output folder that cannot be written is exit 6, and nothing runs", async () => {
    const file = path.join(registry.dir, "a-file");
    await writeFile(file, "");
    const result = await cli(["rerun", "ok-upper", "--out", path.join(file, "sub")]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(
      /^error: Cannot create the output folder .*a-file\/sub: .*a-file is a file, not a folder\.$/m,
    );
    await rm(file);
  });

  it("a chain without container steps replays with Docker unreachable", async () => {
    const result = await runCli(["rerun", "raw", "--out", path.join(registry.dir, "no-engine-needed")], {
      env: { ...registry.env, DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      cwd: registry.dir,
    });
    expect([result.code, result.stderr]).toEqual([0, ""]);
  });

  it("Docker unreachable is exit 3 with how to start it", async () => {
    const result = await runCli(["rerun", "ok-upper", "--out", path.join(registry.dir, "nodocker")], {
      env: { ...registry.env, DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      cwd: registry.dir,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/Docker/);
    expect(result.stderr).toMatch(/hint: .*dockerd/);
  });
});
