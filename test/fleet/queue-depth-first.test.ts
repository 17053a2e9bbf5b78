/**
 * A worker takes the deepest queued step first: a child a finished step unblocked before the
 * roots still waiting, so it goes on down a chain it started (and a target's steps finish
 * sooner) instead of running every root of the batch first.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PgBossStepQueue, type StepJob } from "../../src/fleet/step-queue.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

describe("queued steps, deepest first", () => {
  let registry: TestRegistry | undefined;
  let queue: PgBossStepQueue | undefined;
  afterEach(async () => {
    await queue?.stop();
    queue = undefined;
    await registry?.dispose();
    registry = undefined;
  });

  it("takes jobs by depth, then in the order they were sent", async () => {
    registry = await createTestRegistry("postgres");
    const db = await registry.open();
    const errors: unknown[] = [];
    try {
      queue = new PgBossStepQueue(db, { onError: (error) => errors.push(error) });
      await queue.start();
      const sent: StepJob[] = [
        { batchId: "v-depth", stepId: "root-1", depth: 0 },
        { batchId: "v-depth", stepId: "root-2" },
        { batchId: "v-depth", stepId: "child-of-1", depth: 1 },
        { batchId: "v-depth", stepId: "root-3", depth: 0 },
        { batchId: "v-depth", stepId: "grandchild-of-1", depth: 2 },
      ];
      for (const job of sent) await queue.sendStep(job);
      const taken: StepJob[] = [];
      await queue.workSteps(1, async (job) => {
        taken.push(job);
        await Promise.resolve();
      });
      for (let i = 0; i < 200 && taken.length < sent.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(taken.map((j) => j.stepId)).toEqual([
        "grandchild-of-1",
        "child-of-1",
        "root-1",
        "root-2",
        "root-3",
      ]);
      expect(taken.find((j) => j.stepId === "child-of-1")).toEqual({
        batchId: "v-depth",
        stepId: "child-of-1",
        depth: 1,
      });
      expect(errors).toEqual([]);
    } finally {
      await queue?.stop();
      queue = undefined;
      await db.close();
    }
  }, 60_000);
});
