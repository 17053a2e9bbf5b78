/**
 * `rerun --diff` names the part that differs, from diffoscope's JSON report made in the sandbox:
 * the gzip header's modification time, the PNG's tIME chunk, the SVG's stamped lines, the JSON
 * key. Registries built here; each step writes the format with another stamp than the record's.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest, ManifestStep } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { diffoscopeTool } from "./diffoscope-tool.js";
import { seedSciencePayloads } from "./science-payloads.js";

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as Manifest;
}

describe.each(BACKENDS)("rerun --diff explains each mismatch (%s)", (backend) => {
  let registry: TestRegistry;
  let tool: string;
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { env: { ...registry.env, ...env }, cwd: registry.dir });

  beforeAll(async () => {
    tool = await diffoscopeTool();
    registry = await createTestRegistry(backend);
    await registry.with((db) =>
      seedSciencePayloads(new RegistryFixture(db, new BlobStore(registry.blobRoot))),
    );
  });
  afterAll(async () => {
    await registry.dispose();
  });

  async function rerun(target: string, extra: string[] = [], env: Record<string, string> = {}) {
    const out = path.join(registry.dir, `out-${target}-${extra.join("")}-${Object.keys(env).join("")}`);
    const result = await cli(["rerun", target, "--out", out, ...extra], env);
    const manifest = await readManifest(out);
    const row = manifest.steps.find((s) => s.target_artifact_id === target)!;
    return { result, out, manifest, row };
  }

  async function expectDiffoscopeReports(out: string, row: ManifestStep, base: string): Promise<void> {
    expect(row.diff).toMatchObject({
      tool,
      files: { text: `diffs/${base}.txt`, html: `diffs/${base}.html`, json: `diffs/${base}.json` },
      truncated: false,
    });
    const json = JSON.parse(await readFile(path.join(out, row.diff!.files.json!), "utf8")) as Record<
      string,
      unknown
    >;
    expect(json["diffoscope-json-version"]).toBe(1);
    expect(await readFile(path.join(out, row.diff!.files.html!), "utf8")).toMatch(/^<!DOCTYPE html>/i);
    expect((await stat(path.join(out, row.diff!.files.text))).size).toBeGreaterThan(0);
  }

  it("names the gzip header's modification time, and the terminal says it under the step", async () => {
    const { result, out, row } = await rerun("table.csv.gz", ["--diff"]);
    expect(result.code).toBe(1);
    expect(row.status).toBe("mismatch");
    expect(row.diff?.explanation).toBe("gzip header: modification time differs");
    await expectDiffoscopeReports(out, row, "s-gzip");
    // Under the step's line (after its warnings): the explanation, nothing else of the diff.
    expect(result.stdout).toMatch(
      /✗ mismatch\s+s-gzip .*\n(?: {6}warning: .*\n)* {6}diff {2}gzip header: modification time differs\n/,
    );
    const text = await readFile(path.join(out, row.diff!.files.text), "utf8");
    expect(text).toContain("last modified: Tue May 20 00:00:00 2025");
  });

  it("names the PNG's tIME chunk", async () => {
    const { out, row } = await rerun("figure.png", ["--diff"]);
    expect(row.diff?.explanation).toBe("PNG chunk tIME differs");
    await expectDiffoscopeReports(out, row, "s-png");
  });

  it("counts the SVG's changed lines and quotes the first", async () => {
    const { out, row } = await rerun("figure.svg", ["--diff"]);
    expect(row.diff?.explanation).toBe('3 lines differ, first "<!-- generated 2026-01-02T03:04:05Z -->"');
    await expectDiffoscopeReports(out, row, "s-svg");
  });

  it("names the JSON key", async () => {
    const { out, row } = await rerun("summary.json", ["--diff"]);
    expect(row.diff?.explanation).toBe('JSON: key "run_at" differs');
    await expectDiffoscopeReports(out, row, "s-json");
  });

  it("without --diff, nothing is diffed and the verdict is the same", async () => {
    const plain = await rerun("table.csv.gz");
    const diffed = await rerun("table.csv.gz", ["--diff"], { REPLAY_DIFF_TIMEOUT_S: "600" });
    expect(plain.row.diff).toBeNull();
    const verdict = (r: ManifestStep) => [
      r.status,
      r.ok,
      r.output_hash_live,
      r.output_hash_replayed,
      r.reason,
    ];
    expect(verdict(diffed.row)).toEqual(verdict(plain.row));
  });
});
