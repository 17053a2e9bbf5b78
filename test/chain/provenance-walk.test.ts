import { afterEach, describe, expect, it } from "vitest";
import {
  PROVENANCE_WALK_SQL,
  chainToJson,
  renderLineageTree,
  walkChain,
  walkChains,
  type Chain,
  type ChainProblem,
} from "../../src/chain/index.js";
import type { SqlClient } from "../../src/db/index.js";
import { ReplayError } from "../../src/errors/index.js";
import { envHashOf } from "../../src/hashing/index.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { PIP_LOCK, buildDiamondGraph, buildLinearChain, fixtureFor } from "./chain-fixtures.js";

async function walkError(db: SqlClient, artifactId: string): Promise<ReplayError> {
  const error: unknown = await walkChain(db, artifactId).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReplayError);
  return error as ReplayError;
}

function problemsOf(error: ReplayError): ChainProblem[] {
  return error.details.problems as ChainProblem[];
}

describe.each(BACKENDS)("walkChain on %s", (backend) => {
  let registry: TestRegistry | undefined;
  afterEach(async () => {
    await registry?.dispose();
    registry = undefined;
  });

  async function withDb<T>(work: (db: SqlClient) => Promise<T>): Promise<T> {
    registry = await createTestRegistry(backend);
    return registry.with(work);
  }

  it("walks a diamond and a merge in one query, producers first, ties by step id", async () => {
    await withDb(async (db) => {
      const { pipEnv } = await buildDiamondGraph(fixtureFor(registry!, db));
      const before = db.queryCount;
      const chain = await walkChain(db, "fig");
      expect(db.queryCount - before).toBe(1);
      expect(chain.steps.map((s) => s.step.id)).toEqual([
        "fork-b",
        "ingest-a",
        "transform-a",
        "merge-1",
        "render-1",
      ]);
      expect(chain.unproducedArtifacts.map((a) => a.id)).toEqual(["raw-b"]);
      expect([...chain.artifacts.keys()].sort()).toEqual([
        "clean-a",
        "clean-b",
        "fig",
        "merged",
        "raw-a",
        "raw-b",
      ]);
      const merge = chain.steps[3]!;
      expect(merge.multiInput).toBe(true);
      expect(merge.inputs.map((i) => [i.name, i.artifact.id])).toEqual([
        ["left.csv", "clean-a"],
        ["right.csv", "clean-b"],
        ["extra.csv", "raw-a"],
      ]);
      expect(merge.upstreamStepIds).toEqual(["transform-a", "fork-b", "ingest-a"]);
      const render = chain.steps[4]!;
      expect(render.multiInput).toBe(false);
      expect(render.inputs.map((i) => [i.name, i.artifact.id])).toEqual([["source", "merged"]]);
      expect(render.environment).toEqual({
        kind: "pinned",
        environment: {
          envHash: pipEnv,
          baseImage: "replay-base:bookworm",
          lockfileKind: "pip",
          requirementsLock: PIP_LOCK,
        },
      });
      expect(render.step.startedAt).toEqual(new Date("2026-01-02T03:04:05.678Z"));
      expect(render.step.parameters).toEqual({ code_name: "plot.py", args: { dpi: 300 } });
      expect(chain.steps[1]!.inputs).toEqual([]);
      expect(chain.steps[1]!.environment).toEqual({ kind: "unpinned" });
      expect(chain.target.sizeBytes).toBe(6);
    });
  });

  it("reports missing and altered environments per step without failing the walk", async () => {
    await withDb(async (db) => {
      const f = fixtureFor(registry!, db);
      const altered = await f.environment("replay-base:bookworm", "pip", PIP_LOCK);
      await db.query(`UPDATE environments SET requirements_lock = '' WHERE env_hash = $1`, [altered]);
      const ghost = envHashOf({ baseImage: "gone", lockfileKind: "none", requirementsLock: "" });
      await f.artifact("in", "1");
      await f.artifact("mid", "1");
      await f.artifact("out", "1");
      await f.step({ id: "s1", source: "in", target: "mid", stepType: "fork", envHash: ghost });
      await f.step({ id: "s2", source: "mid", target: "out", stepType: "fork", envHash: altered });
      const chain = await walkChain(db, "out");
      expect(chain.steps.map((s) => s.environment.kind)).toEqual(["missing", "altered"]);
      expect(chain.steps[0]!.environment).toEqual({ kind: "missing", envHash: ghost });
      const state = chain.steps[1]!.environment;
      expect(state.kind === "altered" && state.actualHash).toBe(
        envHashOf({ baseImage: "replay-base:bookworm", lockfileKind: "pip", requirementsLock: "" }),
      );
    });
  });

  it("an artifact no step produced is a chain of its own", async () => {
    await withDb(async (db) => {
      await fixtureFor(registry!, db).artifact("upload", "bytes");
      const chain = await walkChain(db, "upload");
      expect(chain.steps).toEqual([]);
      expect(chain.unproducedArtifacts.map((a) => a.id)).toEqual(["upload"]);
      expect(chainToJson(chain).steps).toEqual([]);
    });
  });

  it("says NOT_FOUND for an unknown artifact", async () => {
    await withDb(async (db) => {
      const error = await walkError(db, "no-such-artifact");
      expect(error.code).toBe("NOT_FOUND");
      expect(error.message).toContain("no-such-artifact");
      expect(error.hint).toBeDefined();
    });
  });

  it("names the steps of a cycle, and not the steps merely downstream of it", async () => {
    await withDb(async (db) => {
      const f = fixtureFor(registry!, db);
      for (const id of ["c1", "c2", "c3", "t"]) await f.artifact(id, id);
      await f.step({ id: "s1", source: "c1", target: "c2", stepType: "fork" });
      await f.step({ id: "s2", source: "c2", target: "c3", stepType: "fork" });
      await f.step({ id: "s3", source: "c3", target: "c1", stepType: "fork" });
      await f.step({ id: "s4", source: "c3", target: "t", stepType: "fork" });
      const error = await walkError(db, "t");
      expect(error.code).toBe("REGISTRY_DATA");
      expect(problemsOf(error)).toEqual([{ kind: "cycle", stepIds: ["s1", "s2", "s3"] }]);
      expect(error.message).toContain("steps s1, s2, s3 form a cycle");
    });
  });

  it("names a step that consumes its own output as a cycle", async () => {
    await withDb(async (db) => {
      const f = fixtureFor(registry!, db);
      await f.artifact("self", "x");
      await f.step({ id: "loop", source: "self", target: "self", stepType: "fork" });
      const error = await walkError(db, "self");
      expect(problemsOf(error)).toEqual([{ kind: "cycle", stepIds: ["loop"] }]);
    });
  });

  it("collects every structural problem into one error", async () => {
    await withDb(async (db) => {
      const f = fixtureFor(registry!, db);
      for (const id of ["x", "y", "left", "right", "merged", "gap", "mismatch", "names", "top"])
        await f.artifact(id, id);
      // dangling source, and two producers of y
      await f.step({ id: "p1", source: "x", target: "y", stepType: "fork" });
      await f.step({ id: "p2", source: "ghost", target: "y", stepType: "fork", inputHash: null });
      // dangling input row
      await f.step({
        id: "m-dangling",
        target: "merged",
        stepType: "merge",
        inputHash: null,
        inputs: [
          { name: "l", artifactId: "left" },
          { name: "g", artifactId: "ghost-2" },
        ],
      });
      // positions 0, 2
      await f.step({
        id: "m-gap",
        target: "gap",
        stepType: "merge",
        inputs: [
          { name: "l", artifactId: "left" },
          { name: "r", artifactId: "right" },
        ],
      });
      await db.query(
        `UPDATE processing_step_inputs SET position = 2 WHERE step_id = 'm-gap' AND position = 1`,
      );
      // source_artifact_id is not the input at position 0
      await f.step({
        id: "m-mismatch",
        source: "right",
        target: "mismatch",
        stepType: "merge",
        inputs: [
          { name: "l", artifactId: "left" },
          { name: "r", artifactId: "right" },
        ],
      });
      // names the contract forbids
      await f.step({
        id: "m-names",
        target: "names",
        stepType: "merge",
        inputs: [
          { name: "../up", artifactId: "left" },
          { name: "params.json", artifactId: "right" },
          { name: "..", artifactId: "x" },
          { name: "ok", artifactId: "y" },
          { name: "ok", artifactId: "merged" },
        ],
      });
      await f.step({
        id: "m-top",
        target: "top",
        stepType: "merge",
        inputs: ["y", "merged", "gap", "mismatch", "names"].map((a) => ({ name: a, artifactId: a })),
      });
      const error = await walkError(db, "top");
      expect(error.code).toBe("REGISTRY_DATA");
      const problems = problemsOf(error);
      expect(problems).toEqual(
        expect.arrayContaining([
          { kind: "duplicate_producer", artifactId: "y", stepIds: ["p1", "p2"] },
          {
            kind: "dangling_reference",
            stepId: "p2",
            artifactId: "ghost",
            column: "processing_steps.source_artifact_id",
          },
          {
            kind: "dangling_reference",
            stepId: "m-dangling",
            artifactId: "ghost-2",
            column: "processing_step_inputs.artifact_id (position 1)",
          },
          { kind: "input_position_gap", stepId: "m-gap", positions: [0, 2] },
          {
            kind: "input_source_mismatch",
            stepId: "m-mismatch",
            sourceArtifactId: "right",
            firstInputArtifactId: "left",
          },
          expect.objectContaining({ kind: "bad_input_name", stepId: "m-names", position: 0, name: "../up" }),
          expect.objectContaining({
            kind: "bad_input_name",
            stepId: "m-names",
            position: 1,
            name: "params.json",
          }),
          expect.objectContaining({ kind: "bad_input_name", stepId: "m-names", position: 2, name: ".." }),
          expect.objectContaining({ kind: "bad_input_name", stepId: "m-names", position: 4, name: "ok" }),
        ]),
      );
      expect(problems).toHaveLength(9);
      for (const id of ["p1", "p2", "ghost", "ghost-2", "m-gap", "m-mismatch", "m-names", "params.json"]) {
        expect(error.message).toContain(id);
      }
      expect(error.message).toContain("(9 problems)");
    });
  });

  it("reports a malformed row by table, id and column, never with zod's own output", async () => {
    await withDb(async (db) => {
      const f = fixtureFor(registry!, db);
      await f.artifact("src", "1");
      await f.artifact("bad", "2", { contentHash: "md5:1234" });
      await f.step({ id: "s-bad", source: "src", target: "bad", stepType: "fork", inputHash: "not-a-hash" });
      const error = await walkError(db, "bad");
      expect(error.code).toBe("REGISTRY_DATA");
      expect(problemsOf(error)).toEqual([
        expect.objectContaining({
          kind: "malformed_row",
          table: "artifacts",
          rowId: "bad",
          column: "content_hash",
        }),
        expect.objectContaining({
          kind: "malformed_row",
          table: "processing_steps",
          rowId: "s-bad",
          column: "input_hash",
        }),
      ]);
      expect(error.message).toContain(`artifacts row "bad": column content_hash`);
      expect(error.message).toContain(`"md5:1234"`);
      expect(error.message).toContain(`processing_steps row "s-bad": column input_hash`);
      expect(error.message).not.toMatch(/ZodError|"code":|invalid_type/);
    });
  });

  it("says REGISTRY_DATA when the target has a producing step but no artifacts row", async () => {
    await withDb(async (db) => {
      const f = fixtureFor(registry!, db);
      await f.artifact("src", "1");
      await f.step({ id: "orphan", source: "src", target: "nowhere", stepType: "fork" });
      const error = await walkError(db, "nowhere");
      expect(error.code).toBe("REGISTRY_DATA");
      expect(problemsOf(error)).toEqual([
        {
          kind: "dangling_reference",
          stepId: "orphan",
          artifactId: "nowhere",
          column: "processing_steps.target_artifact_id",
        },
      ]);
    });
  });

  it("walkChains gives each target exactly walkChain's chain, or its error, clean or broken", async () => {
    await withDb(async (db) => {
      const f = fixtureFor(registry!, db);
      await buildDiamondGraph(f);
      // Downstream of the diamond: two figures sharing it, one through a second merge.
      for (const id of ["fig-2", "both", "c1", "c2", "c3", "t", "y", "after-y", "x"])
        await f.artifact(id, id);
      // An environment with no row: both walks see it missing.
      const ghost = envHashOf({ baseImage: "gone", lockfileKind: "none", requirementsLock: "" });
      await f.step({ id: "fork-2", source: "fig", target: "fig-2", stepType: "fork", envHash: ghost });
      await f.step({
        id: "merge-2",
        target: "both",
        stepType: "merge",
        inputs: [
          { name: "a", artifactId: "fig-2" },
          { name: "b", artifactId: "clean-b" },
        ],
      });
      // A cycle with a clean-looking step downstream of it.
      await f.step({ id: "s1", source: "c1", target: "c2", stepType: "fork" });
      await f.step({ id: "s2", source: "c2", target: "c3", stepType: "fork" });
      await f.step({ id: "s3", source: "c3", target: "c1", stepType: "fork" });
      await f.step({ id: "s4", source: "c3", target: "t", stepType: "fork" });
      // Two producers of y, one with a dangling source, and a step downstream of y.
      await f.step({ id: "p1", source: "x", target: "y", stepType: "fork" });
      await f.step({ id: "p2", source: "ghost", target: "y", stepType: "fork", inputHash: null });
      await f.step({ id: "p3", source: "y", target: "after-y", stepType: "fork" });
      const ids = (await db.query<{ id: string }>("SELECT id FROM artifacts ORDER BY id")).map((r) => r.id);
      const shape = (c: Chain) => ({
        target: c.target,
        steps: c.steps,
        artifacts: [...c.artifacts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
        unproduced: c.unproducedArtifacts,
      });
      // Several round trips (batchSize 3) whose chains overlap.
      const chains = await walkChains(db, ids, 3);
      let broken = 0;
      for (const id of ids) {
        const alone = await walkChain(db, id).catch((e: unknown) => e);
        const batched = chains.get(id);
        if (alone instanceof ReplayError) {
          broken++;
          expect(batched).toBeInstanceOf(ReplayError);
          expect((batched as ReplayError).message).toBe(alone.message);
          expect((batched as ReplayError).details).toEqual(alone.details);
        } else {
          expect(shape(batched as Chain)).toEqual(shape(alone as Chain));
        }
      }
      expect(broken).toBe(6); // c1, c2, c3, t (the cycle), y and after-y
    });
  });

  it("walks a 10,000-step chain in one query, with cost independent of unrelated rows", async () => {
    await withDb(async (db) => {
      await buildLinearChain(db, 10_000);
      // Unrelated rows the walk must not touch: a second, longer registry around the chain.
      await buildLinearChain(db, 50_000, "noise-");
      await db.query(
        `INSERT INTO processing_step_inputs (step_id, position, name, artifact_id)
         SELECT 'noise-s' || lpad(g::text, 5, '0'), 0, 'in', 'noise-a' || (g - 1) FROM generate_series(1, 50000) AS g`,
      );
      await db.query(
        `INSERT INTO environments (env_hash, base_image, lockfile_kind)
         SELECT 'sha256:' || encode(sha256(('env' || g)::bytea), 'hex'), 'img' || g, 'none' FROM generate_series(1, 50000) AS g`,
      );
      await db.exec("ANALYZE");
      const before = db.queryCount;
      const started = performance.now();
      const chain = await walkChain(db, "a10000");
      const elapsed = performance.now() - started;
      console.log(`${backend}: walked 10,000 steps in ${elapsed.toFixed(0)} ms`);
      expect(db.queryCount - before).toBe(1);
      expect(chain.steps).toHaveLength(10_000);
      expect(chain.steps[0]!.step.id).toBe("s00001");
      expect(chain.steps.at(-1)!.step.id).toBe("s10000");
      expect(chain.unproducedArtifacts.map((a) => a.id)).toEqual(["a0"]);
      // A linear chain's tree stays flat (no indentation per step), so lineage output is linear too.
      const lines = renderLineageTree(chain).trimEnd().split("\n");
      expect(lines).toHaveLength(10_001);
      expect(lines.at(-1)).toBe("a0 (dataset) [frozen root: not produced by any step]");
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(80);
      // Its speed is benchmark 4's to measure (bench/04-planning.sh), not a timing assertion here;
      // what makes it independent of the registry's size is the plan below.

      const [plan] = await db.query<{ "QUERY PLAN": unknown }>(
        `EXPLAIN (FORMAT JSON) ${PROVENANCE_WALK_SQL}`,
        ["a10000"],
      );
      // Index lookups only: a sequential scan would make the walk grow with the registry.
      expect(JSON.stringify(plan)).not.toContain("Seq Scan");
    });
  });
});
