/**
 * `verify`: 50 figures (and every artifact upstream of them) over a shared 10-step upstream and
 * five branches, one of them drifted. One batch replays each distinct step once (one container
 * per distinct container step, counted through the engine's events), and every target's
 * manifest says what `rerun` of that target alone says.
 */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { topologicalOrder } from "../../src/chain/index.js";
import { createReplayServices } from "../../src/commands/replay-services.js";
import { resolveSettings } from "../../src/config/index.js";
import type { BatchReport } from "../../src/fleet/index.js";
import { planBatch } from "../../src/fleet/index.js";
import { runReplay, type Manifest } from "../../src/replay/index.js";
import { LABEL } from "../../src/runner/labels.js";
import { readManifest } from "../support/manifest-schema.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const COPY = `open("/out/output", "wb").write(open("/in/source", "rb").read())\n`;
const append = (text: string) =>
  `open("/out/output", "wb").write(open("/in/source", "rb").read() + ${JSON.stringify(`${text}\n`)}.encode())\n`;

const BRANCHES = ["b0", "b1", "b2", "b3", "b4"];
/** b4's record came from other code: its replay mismatches, and every figure under it inherits that. */
const DRIFTED = "b4";
const FIGURES_PER_BRANCH = 10;
/** The upstream's container steps (the other upstream steps are forks, run in-process). */
const UPSTREAM_SCRIPTS: Record<string, string> = { u1: COPY, u5: append("cleaned") };

/** The containers the engine created between two instants for a run, by step label. */
function createdContainers(runId: string, since: Date, until: Date): string[] {
  const out = execFileSync(
    "docker",
    [
      "events",
      "--since",
      String(Math.floor(since.getTime() / 1000) - 1),
      "--until",
      String(Math.ceil(until.getTime() / 1000) + 1),
      "--filter",
      "type=container",
      "--filter",
      "event=create",
      "--filter",
      `label=${LABEL.run}=${runId}`,
      "--format",
      `{{index .Actor.Attributes "${LABEL.step}"}}`,
    ],
    { encoding: "utf8" },
  );
  return out.split("\n").filter((l) => l !== "");
}

function leftContainers(runId: string): string[] {
  const out = execFileSync("docker", ["ps", "-aq", "--filter", `label=${LABEL.run}=${runId}`], {
    encoding: "utf8",
  });
  return out.split("\n").filter((l) => l !== "");
}

/** What must agree between a target's manifest in the batch and `rerun` of it alone. */
function verdicts(m: Manifest) {
  return {
    target: m.target,
    status: m.status,
    summary: m.summary,
    first_divergence: m.first_divergence,
    divergence_origins: m.divergence_origins,
    frozen_inputs: m.frozen_inputs,
    steps: m.steps.map((s) => ({
      step_id: s.step_id,
      status: s.status,
      ok: s.ok,
      reason: s.reason,
      output_hash_live: s.output_hash_live,
      output_hash_replayed: s.output_hash_replayed,
      input_hash_replayed: s.input_hash_replayed,
      inputs: s.inputs,
      divergence: s.divergence,
      inherited_from: s.inherited_from,
      image_id: s.image?.id ?? null,
    })),
  };
}

describe("verify: one batch over shared chains", () => {
  let registry: TestRegistry;
  const figures: string[] = [];
  const containerSteps = [...Object.keys(UPSTREAM_SCRIPTS), ...BRANCHES].map((id) => `s-${id}`).sort();

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      let bytes = "readings 1 2 3\n";
      await f.artifact("raw", bytes);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      let source = "raw";
      for (let i = 1; i <= 9; i++) {
        const id = `u${i}`;
        const script = UPSTREAM_SCRIPTS[id];
        if (script === undefined) {
          await f.artifact(id, bytes);
          await f.step({ id: `s-${id}`, source, target: id, stepType: "fork" });
        } else {
          if (script !== COPY) bytes += "cleaned\n";
          await f.scriptStep({ id: `s-${id}`, source, target: id, payload: bytes, script });
        }
        source = id;
      }
      for (const branch of BRANCHES) {
        const recorded = branch === DRIFTED ? `${bytes}${branch} as once recorded\n` : `${bytes}${branch}\n`;
        await f.scriptStep({
          id: `s-${branch}`,
          source,
          target: branch,
          payload: recorded,
          script: append(branch),
        });
        for (let j = 0; j < FIGURES_PER_BRANCH; j++) {
          const id = `fig-${branch}-${j}`;
          await f.artifact(id, recorded, { type: "figure" });
          await f.step({ id: `s-${id}`, source: branch, target: id, stepType: "fork" });
          figures.push(id);
        }
      }
    });
  }, 120_000);
  afterAll(async () => {
    await registry.dispose();
  });

  it("walks the union of 65 chains in a bounded number of queries", async () => {
    await registry.with(async (db) => {
      const before = db.queryCount;
      const plan = await planBatch(db, [...figures].sort());
      // The union walk; no step here names an environment, so no environments query follows.
      expect(db.queryCount - before).toBe(1);
      expect(plan.targets).toHaveLength(50);
      expect(plan.steps).toHaveLength(1 + 9 + 5 + 50);
      expect(plan.dependents.get("s-raw")).toBe(50);
      expect(plan.dependents.get("s-b4")).toBe(10);
      // Producers first: every step after the steps it consumes.
      const position = new Map(plan.steps.map((cs, i) => [cs.step.id, i]));
      for (const cs of plan.steps)
        for (const up of cs.upstreamStepIds)
          expect(position.get(up)).toBeLessThan(position.get(cs.step.id) ?? -1);
      // Exactly the order topologicalOrder gives the union (the walk's order, reused).
      const ids = plan.steps.map((cs) => cs.step.id);
      const deps = new Map(plan.steps.map((cs) => [cs.step.id, cs.upstreamStepIds]));
      expect(ids).toEqual(topologicalOrder([...ids].sort(), deps).order);
      // Also when a budget leaves targets out, so the planned steps are part of the walk's union.
      const part = await planBatch(db, [...figures].sort(), 30);
      expect(part.leftOut.length).toBeGreaterThan(0);
      const partIds = part.steps.map((cs) => cs.step.id);
      expect(partIds.length).toBeLessThanOrEqual(30);
      const partDeps = new Map(part.steps.map((cs) => [cs.step.id, cs.upstreamStepIds]));
      expect(partIds).toEqual(topologicalOrder([...partIds].sort(), partDeps).order);
    });
  });

  it("verify --all replays each distinct step once and every target's manifest matches rerun of it alone", async () => {
    const out = path.join(registry.dir, "batch");
    const since = new Date();
    const result = await runCli(["verify", "--all", "--out", out, "--jobs", "2"], {
      env: registry.env,
      cwd: registry.dir,
      timeoutMs: 240_000,
    });
    const until = new Date();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(1); // b4 and the ten figures under it did not reproduce
    const report = JSON.parse(await readFile(path.join(out, "batch.json"), "utf8")) as BatchReport;
    expect(report.batch_id).toMatch(/^v-\d{8}T\d{6}-[0-9a-f]{6}$/);

    // One container per distinct container step, and none left behind.
    expect(createdContainers(report.batch_id, since, until).sort()).toEqual(containerSteps);
    expect(leftContainers(report.batch_id)).toEqual([]);

    const drifted = [DRIFTED, ...figures.filter((id) => id.startsWith(`fig-${DRIFTED}-`))].sort();
    expect(report.status).toBe("not_reproduced");
    expect(report.summary).toEqual({
      targets: 65,
      reproduced: 54,
      not_reproduced: 11,
      left_out: 0,
      unreplayable: 0,
      steps: 65,
    });
    expect(
      report.targets
        .filter((t) => t.status !== "reproduced")
        .map((t) => t.artifact_id)
        .sort(),
    ).toEqual(drifted);
    expect(report.divergence_origins.map((o) => [o.step_id, o.targets])).toEqual([[`s-${DRIFTED}`, drifted]]);
    expect(report.divergence_origins[0]?.reason).toMatch(
      /^replayed output hashes to sha256:[0-9a-f]{64}, the registry records sha256:[0-9a-f]{64}$/,
    );
    const stepTargets = new Map(report.steps.map((s) => [s.step_id, s.targets]));
    expect(stepTargets.get("s-raw")).toBe(65);
    expect(stepTargets.get("s-u9")).toBe(56); // u9 itself, 5 branches, 50 figures
    expect(stepTargets.get("s-b0")).toBe(11);
    expect(stepTargets.get("s-fig-b0-0")).toBe(1);
    expect(report.steps.filter((s) => s.ok).length).toBe(65 - 11);
    expect(result.stdout).toContain(`divergence s-${DRIFTED} (affects 11 target(s))`);
    expect(result.stdout).toContain(
      "NOT REPRODUCED: 54 of 65 target(s) reproduced, 65 distinct step(s) replayed once each",
    );

    // Every target alone, through rerun's replay, agrees with its manifest in the batch.
    const settings = resolveSettings({}, registry.env, registry.dir);
    await registry.with(async (db) => {
      await using services = await createReplayServices(settings, { log: () => undefined, runId: "alone" });
      const limit = pLimit(4);
      await Promise.all(
        report.targets.map((t) =>
          limit(async () => {
            const batchManifest = await readManifest(path.join(out, path.dirname(t.manifest)));
            const alone = await runReplay(
              {
                db,
                blobRoot: registry.blobRoot,
                executor: services.executor,
                images: services.images,
                preflight: () => services.preflight(),
                toolVersion: "test",
              },
              { artifactId: t.artifact_id, outDir: path.join(registry.dir, "alone", t.artifact_id), jobs: 2 },
            );
            expect(verdicts(batchManifest)).toEqual(verdicts(alone));
            // Payloads are the batch's shared ones, named from the target's folder.
            for (const row of batchManifest.steps.filter((s) => s.payload !== null))
              expect(row.payload).toMatch(/^\.\.\/\.\.\/artifacts\//);
          }),
        ),
      );
    });
  }, 600_000);
});
