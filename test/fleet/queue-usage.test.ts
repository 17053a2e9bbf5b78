/**
 * The queued-batch commands where they do not apply, and their usage errors: on the embedded
 * registry `verify --queue` runs the batch in its own process and `worker` refuses (exit 2);
 * `--status` of an unknown batch, `--status` with a selection, `--wait` alone: exit 2, saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

describe("queued batches on the embedded registry, and usage errors", () => {
  let registry: TestRegistry;
  const cli = (args: string[]) => runCli(args, { env: registry.env, cwd: registry.dir });

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "abc");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.artifact("fig", "abc", { type: "figure" });
      await f.step({ id: "s-fig", source: "raw", target: "fig", stepType: "fork" });
    });
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("verify --queue runs the batch in this process, and says so", async () => {
    const r = await cli(["verify", "fig", "--queue"]);
    expect([r.code, r.stderr]).toEqual([
      0,
      "--queue: the embedded registry admits one process, so this one runs the batch (workers need PostgreSQL)\n",
    ]);
    expect(r.stdout).toContain(
      "REPRODUCED: 1 of 1 target(s) reproduced, 2 distinct step(s) replayed once each\n",
    );
  });

  it("worker refuses the embedded registry with exit 2", async () => {
    const r = await cli(["worker"]);
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect(r.stderr).toContain("error: worker needs the registry on PostgreSQL.\n");
  });

  it.each([
    [
      ["verify", "--status", "v-20260101T000000-abcdef"],
      'error: No batch "v-20260101T000000-abcdef" in the registry.',
    ],
    [["verify", "fig", "--status", "v-1"], "error: --status takes a batch id, not a selection."],
    [["verify", "fig", "--wait"], "error: --wait goes with --queue or --status."],
  ])("%j exits 2 and says why", async (args, message) => {
    const r = await cli(args);
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect(r.stderr.split("\n")[0]).toBe(message);
  });
});
