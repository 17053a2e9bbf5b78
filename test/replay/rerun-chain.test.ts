import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/replay/index.js";
import { runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { expected, hashOf, recordSciencePipeline, type Pipeline } from "./science-pipeline.js";

describe.each(BACKENDS)("rerun of a pipeline with every step type (%s)", (backend) => {
  let registry: TestRegistry;
  let pipeline: Pipeline;
  let manifest: Manifest;
  let result: Awaited<ReturnType<typeof runCli>>;
  let out: string;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    pipeline = await recordSciencePipeline(registry);
    out = path.join(registry.dir, "replay-out");
    result = await runCli(["rerun", "report", "--out", out, "--json", "--jobs", "2"], {
      env: { ...registry.env, REPLAY_WHEELHOUSE: pipeline.wheelhouse },
      cwd: registry.dir,
    });
    manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as Manifest;
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("exits 1 because some steps did not reproduce, and prints the manifest it wrote", () => {
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual(manifest);
  });

  it("has one row per step, in topological order, with the verdict of each", () => {
    const verdicts = Object.fromEntries(manifest.steps.map((s) => [s.step_id, [s.status, s.ok]]));
    expect(verdicts).toEqual({
      "s-ingest": ["verified", true],
      "s-clean": ["reproduced", true],
      "s-render": ["reproduced", true],
      "s-cite": ["reproduced", true],
      "s-fork": ["reproduced", true],
      "s-stamp": ["mismatch", false],
      "s-after": ["mismatch", false],
      "s-stats": ["reproduced", true],
      "s-llm": ["unreplayable", false],
      "s-merge": ["reproduced", true],
      "s-unknown": ["unreplayable", false],
      "s-report": ["mismatch", false],
    });
    const position = new Map(manifest.steps.map((s, i) => [s.target_artifact_id, i]));
    for (const [i, row] of manifest.steps.entries()) {
      for (const input of row.inputs) expect(position.get(input.artifact_id)).toBeLessThan(i);
    }
  });

  it("carries the contract's members with the exact hashes", () => {
    const byId = new Map(manifest.steps.map((s) => [s.step_id, s]));
    const clean = byId.get("s-clean")!;
    expect(clean).toMatchObject({
      step_type: "transform",
      input_hash: hashOf("city,temp\nOslo,3\nRome,18\n"),
      output_hash_live: hashOf(expected.clean),
      output_hash_replayed: hashOf(expected.clean),
      ok: true,
      reason: null,
    });
    expect(byId.get("s-stats")).toMatchObject({
      output_hash_replayed: hashOf(expected.stats),
      env_hash: pipeline.statsEnvHash,
      environment: "pinned",
    });
    expect(byId.get("s-stats")!.image!.ref).toMatch(/^replay-env:/);
    expect(byId.get("s-stats")!.image!.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(byId.get("s-render")!.warnings).toContain(
      "environment never pinned (env_hash is NULL): replayed in replay-base:bookworm with no packages",
    );
    expect(byId.get("s-merge")!.inputs.map((i) => [i.name, i.origin])).toEqual([
      ["a.csv", "replayed"],
      ["b.json", "replayed"],
    ]);
    expect(byId.get("s-ingest")).toMatchObject({
      input_hash: null,
      output_hash_replayed: hashOf("city,temp\nOslo,3\nRome,18\n"),
    });
  });

  it("names the step type of unreplayable steps and feeds their recorded payloads downstream", () => {
    const byId = new Map(manifest.steps.map((s) => [s.step_id, s]));
    expect(byId.get("s-llm")!.reason).toMatch(/^llm_summarize: .*external language-model service/);
    expect(byId.get("s-llm")!.output_hash_replayed).toBeNull();
    expect(byId.get("s-unknown")!.reason).toBe(
      'step type "quantum_leap" has no known semantics: replay-runner has no handler for it',
    );
    expect(byId.get("s-unknown")!.warnings).toEqual([
      "input summary: upstream step s-llm was not replayed (unreplayable); its recorded payload is used as a frozen input",
    ]);
    expect(manifest.frozen_inputs.map((f) => f.artifact_id).sort()).toEqual(["mystery", "raw", "summary"]);
  });

  it("names the first divergence and marks later mismatches as inherited from it", () => {
    const byId = new Map(manifest.steps.map((s) => [s.step_id, s]));
    expect(manifest.first_divergence?.step_id).toBe("s-stamp");
    expect(byId.get("s-stamp")).toMatchObject({ divergence: "origin", inherited_from: [] });
    expect(byId.get("s-stamp")!.reason).toMatch(
      /^replayed output hashes to sha256:[0-9a-f]{64}, the registry records /,
    );
    expect(byId.get("s-after")).toMatchObject({ divergence: "inherited", inherited_from: ["s-stamp"] });
    // Same sizes, so the same bytes, but from inputs that differ from the record.
    expect(byId.get("s-report")).toMatchObject({ divergence: "inherited", inherited_from: ["s-stamp"] });
    expect(byId.get("s-report")!.output_hash_replayed).toBe(byId.get("s-report")!.output_hash_live);
    expect(byId.get("s-report")!.reason).toMatch(/^output is identical, but the inputs hash to /);
  });

  it("summarises and keeps the replayed payloads", async () => {
    expect(manifest.summary).toEqual({
      steps: 12,
      reproduced: 6,
      verified: 1,
      mismatch: 3,
      failed: 0,
      unreplayable: 2,
      interrupted: 0,
    });
    expect(manifest.status).toBe("not_reproduced");
    expect(await readFile(path.join(out, "artifacts", "stats"), "utf8")).toBe(expected.stats);
    expect(manifest.steps.find((s) => s.step_id === "s-stats")!.payload).toBe(
      path.join("artifacts", "stats"),
    );
  });
});
