import { afterEach, describe, expect, it } from "vitest";
import type { SqlClient } from "../../src/db/index.js";
import { envHashOf } from "../../src/hashing/index.js";
import type { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import {
  CREATED_AT,
  DIAMOND_TREE,
  PIP_LOCK,
  buildDiamondGraph,
  fixtureFor,
  pinCreatedAt,
} from "../chain/chain-fixtures.js";
// Runs the built CLI: `npm test` builds first; run `npm run build` before running this file alone.
/** A stack trace line ("    at fn (file:1:2)") must never reach a user without --debug. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

interface BadGraph {
  name: string;
  target: string;
  build: (f: RegistryFixture, db: SqlClient) => Promise<void>;
  /** Every id the error message must name. */
  names: string[];
}

const BAD_GRAPHS: BadGraph[] = [
  {
    name: "a cycle",
    target: "t",
    names: ["s1", "s2", "s3", "cycle"],
    async build(f) {
      for (const id of ["c1", "c2", "c3", "t"]) await f.artifact(id, id);
      await f.step({ id: "s1", source: "c1", target: "c2", stepType: "fork" });
      await f.step({ id: "s2", source: "c2", target: "c3", stepType: "fork" });
      await f.step({ id: "s3", source: "c3", target: "c1", stepType: "fork" });
      await f.step({ id: "s4", source: "c3", target: "t", stepType: "fork" });
    },
  },
  {
    name: "a dangling source",
    target: "out",
    names: ["step-d", "ghost-artifact", "does not exist"],
    async build(f) {
      await f.artifact("out", "o");
      await f.step({
        id: "step-d",
        source: "ghost-artifact",
        target: "out",
        stepType: "fork",
        inputHash: null,
      });
    },
  },
  {
    name: "a dangling input row",
    target: "out",
    names: ["merge-d", "ghost-input", "does not exist"],
    async build(f) {
      await f.artifact("a", "a");
      await f.artifact("out", "o");
      await f.step({
        id: "merge-d",
        target: "out",
        stepType: "merge",
        inputHash: null,
        inputs: [
          { name: "a", artifactId: "a" },
          { name: "b", artifactId: "ghost-input" },
        ],
      });
    },
  },
  {
    name: "two producers of one artifact",
    target: "out",
    names: ["prod-1", "prod-2", "out"],
    async build(f) {
      await f.artifact("in", "i");
      await f.artifact("out", "o");
      await f.step({ id: "prod-1", source: "in", target: "out", stepType: "fork" });
      await f.step({ id: "prod-2", source: "in", target: "out", stepType: "fork" });
    },
  },
  {
    name: "a gap in input positions",
    target: "out",
    names: ["merge-gap", "0, 2"],
    async build(f, db) {
      await f.artifact("a", "a");
      await f.artifact("b", "b");
      await f.artifact("out", "o");
      await f.step({
        id: "merge-gap",
        target: "out",
        stepType: "merge",
        inputs: [
          { name: "a", artifactId: "a" },
          { name: "b", artifactId: "b" },
        ],
      });
      await db.query(
        `UPDATE processing_step_inputs SET position = 2 WHERE step_id = 'merge-gap' AND position = 1`,
      );
    },
  },
  {
    name: "a position-0 input that is not the source",
    target: "out",
    names: ["merge-src", "source_artifact_id is b", "position 0 is a"],
    async build(f) {
      await f.artifact("a", "a");
      await f.artifact("b", "b");
      await f.artifact("out", "o");
      await f.step({
        id: "merge-src",
        source: "b",
        target: "out",
        stepType: "merge",
        inputs: [
          { name: "a", artifactId: "a" },
          { name: "b", artifactId: "b" },
        ],
      });
    },
  },
  {
    name: "bad input names",
    target: "out",
    names: ["merge-names", `"../etc"`, `"params.json"`, `"."`],
    async build(f) {
      await f.artifact("a", "a");
      await f.artifact("b", "b");
      await f.artifact("c", "c");
      await f.artifact("out", "o");
      await f.step({
        id: "merge-names",
        target: "out",
        stepType: "merge",
        inputs: [
          { name: "../etc", artifactId: "a" },
          { name: "params.json", artifactId: "b" },
          { name: ".", artifactId: "c" },
        ],
      });
    },
  },
  {
    name: "a malformed content_hash",
    target: "out",
    names: ["artifacts", `"out"`, "content_hash", "sha256:XYZ"],
    async build(f) {
      await f.artifact("out", "o", { contentHash: "sha256:XYZ" });
    },
  },
];

describe.each(BACKENDS)("replay-runner lineage on %s", (backend) => {
  let registry: TestRegistry | undefined;
  afterEach(async () => {
    await registry?.dispose();
    registry = undefined;
  });

  async function withGraph(
    build: (f: RegistryFixture, db: SqlClient) => Promise<void>,
  ): Promise<TestRegistry> {
    const r = await createTestRegistry(backend);
    registry = r;
    await r.with(async (db) => {
      await build(fixtureFor(r, db), db);
      await pinCreatedAt(db);
    });
    return r;
  }

  it("prints a diamond and a merge as a tree, shared artifacts once", async () => {
    const r = await withGraph(async (f) => {
      await buildDiamondGraph(f);
    });
    const result = await runCli(["lineage", "fig"], { env: r.env, cwd: r.dir });
    expect(result.stdout).toBe(DIAMOND_TREE);
    expect(result.stderr).toBe(
      "warning: artifact raw-b was produced by no recorded step; a replay takes it as it is\n",
    );
    expect(result.code).toBe(0);
  });

  it("prints the chain as JSON with the contract's column names", async () => {
    let envs = { pipEnv: "", noneEnv: "" };
    const hashes = new Map<string, string>();
    const r = await withGraph(async (f) => {
      envs = await buildDiamondGraph(f);
      for (const [id, hash] of f.hashes) hashes.set(id, hash);
    });
    const result = await runCli(["lineage", "fig", "--json"], { env: r.env, cwd: r.dir });
    expect(result.code).toBe(0);
    const artifact = (
      id: string,
      type: string,
      size: number,
      title: string | null = null,
      mediaType = "text/csv",
    ) => ({
      id,
      artifact_type: type,
      title,
      content_hash: hashes.get(id),
      size_bytes: size,
      media_type: mediaType,
      created_at: CREATED_AT,
      metadata: {},
    });
    const environment = (state: string, envHash: string | null, lockfileKind?: string, lock?: string) => ({
      state,
      env_hash: envHash,
      base_image: lockfileKind === undefined ? null : "replay-base:bookworm",
      lockfile_kind: lockfileKind ?? null,
      requirements_lock: lock ?? null,
      actual_hash: null,
    });
    const started = "2026-01-02T03:04:05.678Z";
    const step = (fields: Record<string, unknown>) => ({
      parameters: {},
      env_hash: null,
      trace_id: null,
      started_at: started,
      completed_at: null,
      multi_input: false,
      ...fields,
    });
    const rawA = artifact("raw-a", "dataset", 8, "Raw A");
    const rawB = artifact("raw-b", "dataset", 8);
    const cleanA = artifact("clean-a", "table", 16);
    const cleanB = artifact("clean-b", "table", 8);
    const merged = artifact("merged", "table", 12);
    const fig = artifact("fig", "figure", 6, null, "image/svg+xml");
    expect(JSON.parse(result.stdout)).toEqual({
      target: fig,
      steps: [
        step({
          id: "fork-b",
          step_type: "fork",
          method: "Copy B",
          source_artifact_id: "raw-b",
          target_artifact_id: "clean-b",
          input_hash: hashes.get("raw-b"),
          inputs: [{ name: "source", artifact_id: "raw-b" }],
          environment: environment("unpinned", null),
          upstream_step_ids: [],
          target: cleanB,
        }),
        step({
          id: "ingest-a",
          step_type: "ingest",
          method: "Fetch A",
          source_artifact_id: null,
          target_artifact_id: "raw-a",
          parameters: { source_url: "https://example.org/a.csv" },
          input_hash: null,
          inputs: [],
          environment: environment("unpinned", null),
          upstream_step_ids: [],
          target: rawA,
        }),
        step({
          id: "transform-a",
          step_type: "transform",
          method: "Clean A",
          source_artifact_id: "raw-a",
          target_artifact_id: "clean-a",
          input_hash: hashes.get("raw-a"),
          env_hash: envs.pipEnv,
          inputs: [{ name: "source", artifact_id: "raw-a" }],
          environment: environment("pinned", envs.pipEnv, "pip", PIP_LOCK),
          upstream_step_ids: ["ingest-a"],
          target: cleanA,
        }),
        step({
          id: "merge-1",
          step_type: "merge",
          method: "Merge the tables",
          source_artifact_id: "clean-a",
          target_artifact_id: "merged",
          input_hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
          env_hash: envs.noneEnv,
          multi_input: true,
          inputs: [
            { name: "left.csv", artifact_id: "clean-a" },
            { name: "right.csv", artifact_id: "clean-b" },
            { name: "extra.csv", artifact_id: "raw-a" },
          ],
          environment: environment("pinned", envs.noneEnv, "none", ""),
          upstream_step_ids: ["transform-a", "fork-b", "ingest-a"],
          target: merged,
        }),
        step({
          id: "render-1",
          step_type: "render",
          method: "Draw the figure",
          source_artifact_id: "merged",
          target_artifact_id: "fig",
          parameters: { code_name: "plot.py", args: { dpi: 300 } },
          input_hash: hashes.get("merged"),
          env_hash: envs.pipEnv,
          trace_id: "trace-42",
          completed_at: "2026-01-02T03:05:00.000Z",
          inputs: [{ name: "source", artifact_id: "merged" }],
          environment: environment("pinned", envs.pipEnv, "pip", PIP_LOCK),
          upstream_step_ids: ["merge-1"],
          target: fig,
        }),
      ],
      unproduced_artifacts: [rawB],
    });
    // Every member is always present, in a stable order.
    expect(
      Object.keys((JSON.parse(result.stdout) as { steps: Record<string, unknown>[] }).steps[0]!),
    ).toEqual([
      "id",
      "step_type",
      "method",
      "source_artifact_id",
      "target_artifact_id",
      "parameters",
      "input_hash",
      "env_hash",
      "trace_id",
      "started_at",
      "completed_at",
      "multi_input",
      "inputs",
      "environment",
      "upstream_step_ids",
      "target",
    ]);
  });

  it("prints the tree with missing and altered environments marked, then exits 4", async () => {
    const ghost = envHashOf({ baseImage: "gone:1", lockfileKind: "none", requirementsLock: "" });
    let altered = "";
    const r = await withGraph(async (f, db) => {
      altered = await f.environment("replay-base:bookworm", "pip", PIP_LOCK);
      await db.query(`UPDATE environments SET base_image = 'replay-base:trixie' WHERE env_hash = $1`, [
        altered,
      ]);
      await f.artifact("in", "1");
      await f.artifact("mid", "2", { type: "table" });
      await f.artifact("out", "3", { type: "figure" });
      await f.step({
        id: "s-missing",
        source: "in",
        target: "mid",
        stepType: "transform",
        method: "t",
        envHash: ghost,
      });
      await f.step({
        id: "s-altered",
        source: "mid",
        target: "out",
        stepType: "render",
        method: "r",
        envHash: altered,
      });
    });
    const actual = envHashOf({
      baseImage: "replay-base:trixie",
      lockfileKind: "pip",
      requirementsLock: PIP_LOCK,
    });
    const short = (h: string) => `${h.slice(0, 19)}…`;
    const result = await runCli(["lineage", "out"], { env: r.env, cwd: r.dir });
    expect(result.stdout).toBe(
      `out (figure) <- step s-altered: render "r" [env ALTERED: row ${short(altered)} now hashes to ${short(actual)}]\n` +
        `mid (table) <- step s-missing: transform "t" [env MISSING: ${short(ghost)} has no environments row]\n` +
        `in (dataset) [frozen root: not produced by any step]\n`,
    );
    expect(result.stderr).toContain(
      `error: 2 steps' environments are missing, altered or invalid: step s-missing (missing, env_hash ${ghost}), step s-altered (altered, env_hash ${altered}).`,
    );
    expect(result.stderr).toContain("hint: ");
    expect(result.stderr).not.toMatch(STACK);
    expect(result.code).toBe(4);

    const json = await runCli(["lineage", "out", "--json"], { env: r.env, cwd: r.dir });
    expect(json.code).toBe(4);
    const parsed = JSON.parse(json.stdout) as {
      steps: { environment: { state: string; actual_hash: string | null } }[];
    };
    expect(parsed.steps.map((s) => s.environment.state)).toEqual(["missing", "altered"]);
    expect(parsed.steps[1]!.environment.actual_hash).toBe(actual);
  });

  it.each(BAD_GRAPHS)("exits 4 on $name, naming the offending ids", async (graph) => {
    const r = await withGraph(graph.build);
    const result = await runCli(["lineage", graph.target], { env: r.env, cwd: r.dir });
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: /);
    for (const name of graph.names) expect(result.stderr).toContain(name);
    expect(result.stderr).toContain("hint: ");
    expect(result.stderr).not.toMatch(STACK);
    expect(result.stderr).not.toMatch(/ZodError|invalid_type/);
    expect(result.code).toBe(4);
  });

  it("exits 2 for an unknown artifact", async () => {
    const r = await withGraph(async (f) => {
      await f.artifact("known", "k");
    });
    const result = await runCli(["lineage", "unknown-id"], { env: r.env, cwd: r.dir });
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("error: There is no artifact unknown-id in the registry.");
    expect(result.stderr).toContain("hint: ");
    expect(result.stderr).not.toMatch(STACK);
    expect(result.code).toBe(2);
  });

  it("documents its output and exit codes in --help", async () => {
    const r = await withGraph(() => Promise.resolve());
    const result = await runCli(["lineage", "--help"], { env: r.env, cwd: r.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: replay-runner lineage [options] <artifact-id>");
    expect(result.stdout).toContain("Exit codes:");
    expect(result.stdout).toContain("MISSING or ALTERED");
    expect(result.stdout).toMatch(/^\s+4\s+the registry's rows/m);
  });
});
