/** Record a pipeline with add/run/cite/fork, then replay it: what was recorded reproduces. */
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { citationBytes } from "../../src/handlers/index.js";
import { canonicalJson, contentHashOf, inputHashOf } from "../../src/hashing/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { RAW_CSV, recordPipeline, run, type RecordedPipeline } from "./cli-pipeline.js";

interface StepRow {
  id: string;
  step_type: string;
  source_artifact_id: string | null;
  parameters: Record<string, unknown>;
  input_hash: string | null;
  env_hash: string | null;
  started_at: Date | null;
}

describe.each(BACKENDS)("record with the CLI, then replay (%s)", (backend) => {
  let registry: TestRegistry;
  let p: RecordedPipeline;
  let blobs: BlobStore;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    blobs = new BlobStore(registry.blobRoot);
    p = await recordPipeline(registry);
  });
  afterAll(async () => {
    await registry.dispose();
  });

  async function stepFor(target: string): Promise<StepRow> {
    return registry.with(async (db) => {
      const [row] = await db.query<StepRow>("SELECT * FROM processing_steps WHERE target_artifact_id = $1", [
        target,
      ]);
      return row!;
    });
  }

  async function hashOf(id: string): Promise<string> {
    return registry.with(async (db) => {
      const [row] = await db.query<{ content_hash: string }>(
        "SELECT content_hash FROM artifacts WHERE id = $1",
        [id],
      );
      return row!.content_hash;
    });
  }

  async function rerun(
    target: string,
    extra: string[] = [],
  ): Promise<{ code: number | null; manifest: Manifest; stderr: string }> {
    const out = path.join(registry.dir, `replay-${target}-${Date.now()}`);
    const result = await run(registry, ["rerun", target, "--out", out, "--json", ...extra], {
      REPLAY_WHEELHOUSE: p.wheelhouse,
    });
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as Manifest;
    return { code: result.code, manifest, stderr: result.stderr };
  }

  it("records ids in the documented scheme and rows in the contract's form", async () => {
    expect(p.raw).toBe("raw");
    for (const id of [p.note, p.clean, p.stats, p.figure, p.citation, p.copy])
      expect(id).toMatch(/^art-[0-9a-f]{12}$/);

    const ingest = await stepFor(p.raw);
    expect(ingest).toMatchObject({
      step_type: "ingest",
      source_artifact_id: null,
      input_hash: null,
      env_hash: null,
    });
    expect(ingest.parameters).toEqual({ source_url: "https://example.org/raw.csv" });
    expect(ingest.id).toMatch(/^step-[0-9a-f]{12}$/);
    expect(await hashOf(p.raw)).toBe(contentHashOf(RAW_CSV));

    const clean = await stepFor(p.clean);
    expect(clean.input_hash).toBe(contentHashOf(RAW_CSV));
    expect(clean.parameters).toMatchObject({
      code_name: "clean.py",
      args: { max: 16 },
      timeout_s: 3600,
      memory_mb: 2048,
    });
    expect(clean.parameters.code_hash).toBe(contentHashOf(await readFile(path.join(p.dir, "clean.py"))));
    expect(await hashOf(p.clean)).toBe(contentHashOf("CITY,TEMP\nOSLO,3\nLIMA,15\n"));

    const stats = await stepFor(p.stats);
    expect(stats.source_artifact_id).toBe(p.clean);
    expect(stats.input_hash).toBe(
      inputHashOf(
        [
          { name: "table.csv", contentHash: await hashOf(p.clean) },
          { name: "note.txt", contentHash: await hashOf(p.note) },
        ],
        true,
      ),
    );
    const { inputs, env } = await registry.with(async (db) => ({
      inputs: await db.query(
        "SELECT position, name, artifact_id FROM processing_step_inputs WHERE step_id = $1 ORDER BY position",
        [stats.id],
      ),
      env: await db.query("SELECT lockfile_kind, base_image FROM environments WHERE env_hash = $1", [
        stats.env_hash,
      ]),
    }));
    expect(inputs).toEqual([
      { position: 0, name: "table.csv", artifact_id: p.clean },
      { position: 1, name: "note.txt", artifact_id: p.note },
    ]);
    expect(env).toEqual([{ lockfile_kind: "pip", base_image: "replay-base:bookworm" }]);
    // The step saw SOURCE_DATE_EPOCH from its recorded started_at, fraction dropped.
    const payload = JSON.parse(await readFile(blobs.pathFor(await hashOf(p.stats)), "utf8")) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({ mean: 9, n: 2, note: "degrees Celsius" });
    expect(payload.epoch).toBe(String(Math.trunc(stats.started_at!.getTime() / 1000)));

    expect((await stepFor(p.figure)).env_hash).toBeNull(); // --no-env
    const cite = await stepFor(p.citation);
    expect(cite.parameters).toEqual({
      doi: "10.1234/rr.5",
      title: "Temperatures",
      authors: ["Ada", "Émile"],
    });
    expect(await hashOf(p.citation)).toBe(
      contentHashOf(citationBytes(cite.parameters, await hashOf(p.figure))),
    );
    expect(
      canonicalJson(JSON.parse(await readFile(blobs.pathFor(await hashOf(p.citation)), "utf8"))),
    ).toContain('"cites":"sha256:');
    expect(await hashOf(p.copy)).toBe(await hashOf(p.figure));
  });

  it("replays every recorded step byte for byte", async () => {
    for (const target of [p.citation, p.copy]) {
      const { code, manifest } = await rerun(target);
      expect(manifest.steps.filter((s) => !s.ok).map((s) => [s.step_id, s.reason])).toEqual([]);
      expect(code).toBe(0);
      expect(manifest.status).toBe("reproduced");
    }
    const { manifest } = await rerun(p.citation);
    expect(manifest.steps.map((s) => s.step_type).sort()).toEqual([
      "analysis",
      "cite",
      "ingest",
      "ingest",
      "render",
      "transform",
    ]);
  });

  it("reports exactly the step that reads an altered blob", async () => {
    // The intermediate table: written read-only (0444) by the blob store, so chmod first.
    const file = blobs.pathFor(await hashOf(p.clean));
    await chmod(file, 0o644);
    await writeFile(file, "CITY,TEMP\nOSLO,3\nLIMA,99\n");
    await chmod(file, 0o444);
    const stats = await stepFor(p.stats);
    // From the analysis step on, the table is a frozen input read from the blob store.
    const { code, manifest } = await rerun(p.figure, ["--from", stats.id]);
    expect(code).toBe(1);
    const bad = manifest.steps.filter((s) => !s.ok);
    expect(bad.map((s) => s.step_id)).toEqual([stats.id]);
    expect(bad[0]).toMatchObject({ status: "failed", output_hash_replayed: null });
    expect(bad[0]!.reason).toContain(p.clean);
    expect(bad[0]!.reason).toContain(contentHashOf("CITY,TEMP\nOSLO,3\nLIMA,99\n"));
  });
});
