// Runs the built CLI: `npm test` builds first; run `npm run build` before running this file alone.
import { afterEach, describe, expect, it } from "vitest";
import { stepTypeCounts } from "../../src/chain/index.js";
import { isHandled } from "../../src/handlers/index.js";
import { runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { buildDiamondGraph, fixtureFor } from "../chain/chain-fixtures.js";

// Which types are handled is the handler registry's business; these tests check that the
// command reports what the registry says, whatever handlers exist when they run.
const handled = (stepType: string) => (isHandled(stepType) ? "yes" : "no");

describe.each(BACKENDS)("replay-runner step-types on %s", (backend) => {
  let registry: TestRegistry | undefined;
  afterEach(async () => {
    await registry?.dispose();
    registry = undefined;
  });

  async function withSteps(): Promise<TestRegistry> {
    const r = await createTestRegistry(backend);
    registry = r;
    await r.with(async (db) => {
      const f = fixtureFor(r, db);
      await buildDiamondGraph(f);
      await f.artifact("cited", "c", { type: "citation" });
      await f.artifact("summary", "s", { type: "summary" });
      await f.artifact("copy", "c2");
      await f.step({ id: "cite-1", source: "fig", target: "cited", stepType: "cite" });
      await f.step({ id: "llm-1", source: "merged", target: "summary", stepType: "llm_summarize" });
      await f.step({ id: "fork-2", source: "raw-a", target: "copy", stepType: "fork" });
      await f.step({ id: "odd-1", source: "raw-a", target: "copy", stepType: "quantum_magic" });
    });
    return r;
  }

  it("counts steps by type, sorted, with whether each is handled", async () => {
    const r = await withSteps();
    const rows = [
      ["cite", "1"],
      ["fork", "2"],
      ["ingest", "1"],
      ["llm_summarize", "1"],
      ["merge", "1"],
      ["quantum_magic", "1"],
      ["render", "1"],
      ["transform", "1"],
    ];
    const counts = await r.with((db) => stepTypeCounts(db));
    expect(counts).toEqual(rows.map(([stepType, count]) => ({ stepType, count: Number(count) })));

    const result = await runCli(["step-types"], { env: r.env, cwd: r.dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const h = handled;
    expect(result.stdout).toBe(
      [
        `step_type      count  handled`,
        `cite               1  ${h("cite")}`,
        `fork               2  ${h("fork")}`,
        `ingest             1  ${h("ingest")}`,
        `llm_summarize      1  ${h("llm_summarize")}`,
        `merge              1  ${h("merge")}`,
        `quantum_magic      1  ${h("quantum_magic")}`,
        `render             1  ${h("render")}`,
        `transform          1  ${h("transform")}`,
        ``,
      ].join("\n"),
    );
    expect(handled("quantum_magic")).toBe("no");

    const json = await runCli(["step-types", "--json"], { env: r.env, cwd: r.dir });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(
      rows.map(([t, c]) => ({ step_type: t, count: Number(c), handled: isHandled(t!) })),
    );
  });

  it("prints only the header for an empty registry", async () => {
    const r = await createTestRegistry(backend);
    registry = r;
    const result = await runCli(["step-types"], { env: r.env, cwd: r.dir });
    expect(result.stdout).toBe("step_type  count  handled\n");
    expect(result.code).toBe(0);
    const json = await runCli(["step-types", "--json"], { env: r.env, cwd: r.dir });
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it("documents its columns and exit codes in --help", async () => {
    const r = await createTestRegistry(backend);
    registry = r;
    const result = await runCli(["step-types", "--help"], { env: r.env, cwd: r.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Columns: step_type, count");
    expect(result.stdout).toContain("Exit codes:");
  });
});
