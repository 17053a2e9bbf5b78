/**
 * A job sent by one process wakes the idle pollers of another (LISTEN/NOTIFY), instead of
 * waiting for their next poll: two queues on two clients of one PostgreSQL registry, the
 * worker polling only once a minute, must get a step job within seconds of its sending. And a
 * job sent inside a transaction that rolls back wakes nobody and is never worked.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SqlClient } from "../../src/db/index.js";
import { PgBossStepQueue, type StepJob } from "../../src/fleet/step-queue.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const POLL_SECONDS = 60;

describe("queued jobs wake workers in other processes", () => {
  const open: { stop(): Promise<void> }[] = [];
  const errors: unknown[] = [];
  let registry: TestRegistry | undefined;
  afterEach(async () => {
    for (const r of open.splice(0).reverse()) await r.stop();
    await registry?.dispose();
    registry = undefined;
  });

  async function queueOn(db: SqlClient): Promise<PgBossStepQueue> {
    const queue = new PgBossStepQueue(db, {
      onError: (error) => errors.push(error),
      pollingIntervalSeconds: POLL_SECONDS,
    });
    open.push({ stop: () => queue.stop() });
    await queue.start();
    return queue;
  }

  it("a job another client sends is taken before the worker's next poll", async () => {
    registry = await createTestRegistry("postgres");
    const senderDb = await registry.open();
    const workerDb = await registry.open();
    open.push({ stop: () => workerDb.close() }, { stop: () => senderDb.close() });
    const sender = await queueOn(senderDb);
    const worker = await queueOn(workerDb);

    const taken: { job: StepJob; at: number }[] = [];
    await worker.workSteps(1, async (job) => {
      taken.push({ job, at: Date.now() });
      await Promise.resolve();
    });
    // The poller's first fetch (empty) has happened once pg-boss has run it; give it a moment,
    // so the job below can only be found by a wake-up or by the poll a minute later.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // Rolled back: no job, no notification.
    await senderDb
      .transaction(async (tx) => {
        await sender.sendStep({ batchId: "v-wake", stepId: "s-rolled-back" }, tx);
        throw new Error("roll back");
      })
      .catch(() => undefined);
    const sentAt = Date.now();
    await senderDb.transaction(async (tx) => {
      await sender.sendStep({ batchId: "v-wake", stepId: "s-1" }, tx);
    });
    for (let i = 0; i < 200 && taken.length === 0; i++) await new Promise((r) => setTimeout(r, 50));

    expect(taken.map((t) => t.job)).toEqual([{ batchId: "v-wake", stepId: "s-1" }]);
    expect(errors).toEqual([]);
    // Within seconds of the commit, where the next poll is a minute away.
    expect((taken[0]?.at ?? Infinity) - sentAt).toBeLessThan((POLL_SECONDS * 1000) / 6);
  }, 60_000);
});
