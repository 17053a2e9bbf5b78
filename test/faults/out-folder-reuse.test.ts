/**
 * Issue 12, item 14: `--out` silently overwrote a folder holding another replay. Now a folder
 * that is not empty is refused (exit 6) naming the old manifest, and `--force` replaces the old
 * replay: its manifest, artifacts/ and diffs/ are removed before anything runs, so no stale
 * payload or diff can be taken for this replay's.
 */
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { ownStderr, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { readManifest, registryDigest, strayFiles } from "./fault-harness.js";

const RAW = "a,b\n1,2\n";

describe("an --out folder that already holds something", () => {
  let registry: TestRegistry;
  let digestBefore: string;

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.artifact("same", RAW);
      await f.step({ id: "s-same", source: "raw", target: "same", stepType: "fork" });
      // Recorded with other bytes: a mismatch, and with --diff a diff file.
      await f.artifact("wrong", "a,b\n1,3\n");
      await f.step({ id: "s-wrong", source: "raw", target: "wrong", stepType: "fork" });
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    await registry.dispose();
  });

  const cli = (args: string[]) => runCli(args, { env: registry.env, cwd: registry.dir });

  it("is refused naming the old manifest, and with --force holds only the new replay", async () => {
    const out = path.join(registry.dir, "reused");
    const first = await cli(["rerun", "wrong", "--out", out, "--diff"]);
    expect(first.code).toBe(1);
    const old = await readManifest(out);
    expect((await readdir(path.join(out, "artifacts"))).sort()).toEqual(["wrong"]);
    expect((await readdir(path.join(out, "diffs"))).sort()).toEqual([
      "s-wrong.html",
      "s-wrong.json",
      "s-wrong.txt",
    ]);

    const refused = await cli(["rerun", "same", "--out", out]);
    expect(refused.code).toBe(6);
    expect(refused.stdout).toBe("");
    expect(ownStderr(refused.stderr)).toBe(
      `error: The output folder ${out} already holds replay ${old.replay_id}: its manifest is ${path.join(out, "manifest.json")}.\n` +
        "hint: Choose a new or empty folder with --out, or add --force to replace the replay there (its manifest.json, artifacts/ and diffs/ are removed first; nothing else is touched).\n",
    );
    expect((await readManifest(out)).replay_id).toBe(old.replay_id);
    expect(await readdir(path.join(out, "artifacts"))).toEqual(["wrong"]);

    await writeFile(path.join(out, "notes.txt"), "mine");
    const forced = await cli(["rerun", "same", "--out", out, "--force"]);
    expect(ownStderr(forced.stderr)).toBe("");
    expect(forced.code).toBe(0);
    const manifest = await readManifest(out);
    expect(manifest.replay_id).not.toBe(old.replay_id);
    expect(manifest.status).toBe("reproduced");
    // Nothing of the old replay is left to be taken for this one's; the user's file stays.
    expect((await readdir(out)).sort()).toEqual(["artifacts", "manifest.json", "notes.txt"]);
    expect(await readdir(path.join(out, "artifacts"))).toEqual(["same"]);
    expect(await readFile(path.join(out, "notes.txt"), "utf8")).toBe("mine");
    expect(await strayFiles(out)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
  });

  it("refuses a folder that is not empty although it holds no replay", async () => {
    const out = path.join(registry.dir, "busy");
    await mkdir(path.join(out, "data"), { recursive: true });
    await writeFile(path.join(out, "thesis.tex"), "\\begin{document}");
    const refused = await cli(["rerun", "same", "--out", out]);
    expect(refused.code).toBe(6);
    expect(ownStderr(refused.stderr)).toMatch(
      new RegExp(
        `^error: The output folder ${out} is not empty: it holds 2 entries \\("data", "thesis.tex"\\)\\.\\n`,
      ),
    );
    expect((await readdir(out)).sort()).toEqual(["data", "thesis.tex"]);
  });

  it("writes into a new folder, an empty one, and the default one without --force", async () => {
    const empty = path.join(registry.dir, "empty");
    await mkdir(empty);
    expect((await cli(["rerun", "same", "--out", empty])).code).toBe(0);
    expect((await cli(["rerun", "same", "--out", path.join(registry.dir, "new", "deeper")])).code).toBe(0);
    const byDefault = await cli(["rerun", "same"]);
    expect(byDefault.code).toBe(0);
    expect(byDefault.stdout).toMatch(/^manifest: \.replay\/replays\/r-[0-9T]+-[0-9a-f]{6}\/manifest\.json$/m);
  });
});
