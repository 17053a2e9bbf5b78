/**
 * `rerun --dry-run` walks, plans and checks, and runs nothing: no container, no output folder,
 * no replay row. A missing script blob is reported (exit 5), as --strict would refuse it.
 */
import { access, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { DryRunPlan } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const UPPER = `open("/out/output", "w").write(open("/in/source").read().upper())
`;

describe.each(BACKENDS)("rerun --dry-run (%s)", (backend) => {
  let registry: TestRegistry;
  let blobs: BlobStore;
  let codeHash: string;
  const cli = (args: string[]) => runCli(args, { env: registry.env, cwd: registry.dir });

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    blobs = new BlobStore(registry.blobRoot);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, blobs);
      await f.artifact("raw", "a,b\n");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      codeHash = await f.blob(UPPER);
      await f.artifact("upper", "A,B\n");
      await f.step({
        id: "s-upper",
        source: "raw",
        target: "upper",
        stepType: "transform",
        parameters: { code_hash: codeHash },
      });
    });
  });

  afterAll(async () => {
    await registry.dispose();
  });

  it("prints the plan and runs nothing", async () => {
    const result = await cli(["rerun", "upper", "--dry-run", "--json"]);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as DryRunPlan;
    expect(plan.steps.map((s) => [s.step_id, s.mode])).toEqual([
      ["s-raw", "frozen"],
      ["s-upper", "container"],
    ]);
    expect(plan.steps[1]?.upstream_step_ids).toEqual(["s-raw"]);
    expect(plan.frozen_inputs.map((f) => f.artifact_id)).toEqual(["raw"]);
    expect(plan.problems).toEqual([]);
    // No replay happened: no output folder under <home>/replays.
    await expect(access(path.join(registry.home, "replays"))).rejects.toThrow();

    const text = await cli(["rerun", "upper", "--dry-run", "--from", "s-upper"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("1 of 2 step(s) would run (from s-upper)");
    expect(text.stdout).toContain("nothing was run");
  });

  it("reports a missing script and exits 5", async () => {
    await rm(blobs.pathFor(codeHash));
    const result = await cli(["rerun", "upper", "--dry-run"]);
    expect(result.code).toBe(5);
    expect(result.stdout).toContain(`blob ${codeHash} is missing`);
  });
});
