/**
 * A payload built to make the diff expensive costs at most the diff's limits and never hangs or
 * fails the replay: a zip bomb, a PNG whose sng dump runs away (a helper that does not stop), a tar
 * nested 50 deep, a 1 GiB pair. Each ends within the wall clock (REPLAY_DIFF_TIMEOUT_S) with a
 * bounded diffoscope report or the built-in diff and a warning saying why, and the replay's
 * verdicts are those of the same replay without --diff.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { DEFAULT_DIFF_LIMITS } from "../../src/diagnose/index.js";
import type { Manifest, ManifestStep } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { diffoscopeTool } from "./diffoscope-tool.js";
import {
  COPY_SCRIPT,
  SPARSE_SIZE,
  nestedTar,
  pngBomb,
  sparseBlob,
  sparseScript,
  zipBomb,
} from "./hostile-payloads.js";

/** The diff's wall clock here; its container may take 30 s more (diff-limits.ts). */
const WALL_S = 20;
const FALLBACK = /^diff: diffoscope could not explain this mismatch \((.+)\); the built-in diff stands in$/;

const verdict = (rows: ManifestStep[]) =>
  rows.map((r) => [
    r.step_id,
    r.status,
    r.ok,
    r.output_hash_live,
    r.output_hash_replayed,
    r.input_hash_replayed,
    r.reason,
  ]);

describe("hostile payloads cost at most the diff's limits", () => {
  let registry: TestRegistry;
  let tool: string;

  beforeAll(async () => {
    tool = await diffoscopeTool();
    registry = await createTestRegistry("embedded");
    const blobs = new BlobStore(registry.blobRoot);
    const [bombA, bombB, pngA, pngB, nestA, nestB] = await Promise.all([
      zipBomb("a"),
      zipBomb("b"),
      pngBomb(0),
      pngBomb(1),
      nestedTar("a"),
      nestedTar("b"),
    ]);
    const big = await sparseBlob(registry.blobRoot, "A");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, blobs);
      await f.artifact("raw", "seed\n");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      const copies = [
        { id: "s-zip", source: "bomb-b.zip", target: "bomb.zip", payload: bombA, input: bombB },
        { id: "s-png", source: "huge-b.png", target: "huge.png", payload: pngA, input: pngB },
        { id: "s-nest", source: "nested-b.tar", target: "nested.tar", payload: nestA, input: nestB },
      ];
      for (const c of copies) {
        await f.artifact(c.source, c.input);
        await f.step({ id: `s-${c.source}`, target: c.source, stepType: "ingest", inputHash: null });
        await f.scriptStep({
          id: c.id,
          source: c.source,
          target: c.target,
          payload: c.payload,
          script: COPY_SCRIPT,
        });
      }
      await f.artifact("big.bin", "", { storeBlob: false, contentHash: big });
      await db.query("UPDATE artifacts SET size_bytes = $1 WHERE id = 'big.bin'", [SPARSE_SIZE]);
      await f.step({
        id: "s-big",
        source: "raw",
        target: "big.bin",
        stepType: "transform",
        parameters: { code_hash: await f.blob(sparseScript("B")) },
      });
    });
  }, 600_000);
  afterAll(async () => {
    await registry.dispose();
  });

  async function rerun(target: string, diff: boolean) {
    const out = path.join(registry.dir, `${target}-${diff ? "diff" : "plain"}`);
    const started = performance.now();
    const result = await runCli(["rerun", target, "--out", out, ...(diff ? ["--diff"] : [])], {
      env: { ...registry.env, REPLAY_DIFF_TIMEOUT_S: String(WALL_S) },
      cwd: registry.dir,
      timeoutMs: 600_000,
    });
    const ms = performance.now() - started;
    const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as Manifest;
    return { result, ms, out, manifest, row: manifest.steps.find((s) => s.target_artifact_id === target)! };
  }

  /** Runs the replay with and without --diff; same verdicts, and the diff within its wall clock. */
  async function compare(target: string) {
    const plain = await rerun(target, false);
    const diffed = await rerun(target, true);
    expect(diffed.result.code).toBe(1);
    expect(plain.result.code).toBe(1);
    expect(verdict(diffed.manifest.steps)).toEqual(verdict(plain.manifest.steps));
    expect(diffed.manifest.status).toBe(plain.manifest.status);
    expect(diffed.ms - plain.ms).toBeLessThan((WALL_S + 30 + 30) * 1000);
    expect(diffed.row.diff).not.toBeNull();
    // Every report written is within its bound (plus the note a cut one ends with).
    for (const file of Object.values(diffed.row.diff!.files)) {
      if (file === null) continue;
      expect((await stat(path.join(diffed.out, file))).size).toBeLessThanOrEqual(
        DEFAULT_DIFF_LIMITS.reportBytes + 200,
      );
    }
    return diffed;
  }

  function fallbackReason(row: ManifestStep): string | undefined {
    return row.warnings.map((w) => FALLBACK.exec(w)?.[1]).find((r) => r !== undefined);
  }

  it("a zip bomb fills the diff's 1 GiB /tmp, diffoscope gives up, the built-in diff stands in", async () => {
    const { row } = await compare("bomb.zip");
    expect(row.diff).toMatchObject({
      tool: "builtin",
      files: { text: "diffs/s-zip.txt", html: null, json: null },
    });
    expect(fallbackReason(row)).toMatch(/^diffoscope failed \(exit status 2: .*No space left on device.*\)$/);
  }, 600_000);

  it("a PNG whose sng dump runs away is stopped by the wall clock or the memory limit", async () => {
    const { row } = await compare("huge.png");
    expect(row.diff?.tool).toBe("builtin");
    expect(fallbackReason(row)).toMatch(
      new RegExp(
        `^diffoscope (ran longer than its limit of ${WALL_S} s|ran out of memory \\(limit 4096 MiB\\))$`,
      ),
    );
    expect(row.diff?.explanation).toMatch(
      /^bytes differ from offset \d+ \(0x[0-9a-f]+\)(; sizes \d+ and \d+ bytes)?$/,
    );
  }, 600_000);

  it("a tar nested 50 deep is opened 8 deep, and the report says where it stopped", async () => {
    const { row, out } = await compare("nested.tar");
    expect(row.diff).toMatchObject({ tool, truncated: false });
    expect(row.diff!.explanation).toMatch(/^level-48\.tar > level-47\.tar > level-46\.tar > .*level-41\.tar/);
    expect(row.diff!.explanation).not.toContain("leaf.txt");
    const json = await readFile(path.join(out, row.diff!.files.json!), "utf8");
    expect(json).not.toContain("leaf.txt");
  }, 600_000);

  it("a 1 GiB pair ends within the limits, with the built-in diff's first differing byte", async () => {
    const { row } = await compare("big.bin");
    expect(row.diff?.tool).toBe("builtin");
    expect(fallbackReason(row)).toMatch(
      new RegExp(
        `^diffoscope (ran longer than its limit of ${WALL_S} s|ran out of memory \\(limit 4096 MiB\\))$`,
      ),
    );
    expect(row.diff?.explanation).toBe(
      `bytes differ from offset ${SPARSE_SIZE / 2} (0x${(SPARSE_SIZE / 2).toString(16)})`,
    );
  }, 600_000);
});
