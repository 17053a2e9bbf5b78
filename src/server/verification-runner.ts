/**
 * Batches submitted through POST /api/verifications: on PostgreSQL stored for the workers
 * (enqueueBatch: `replay-runner worker` processes, and this server's own step worker); on the
 * embedded registry, which admits one process, run here in the background as `verify` would.
 */
import path from "node:path";
import type { SqlClient } from "../db/index.js";
import {
  enqueueBatch,
  newBatchId,
  selectTargets,
  type BatchSelection,
  type StepJobQueue,
} from "../fleet/index.js";
import type { ReplayServicesLike } from "./replay-worker.js";
import { runServedBatch } from "./served-batch.js";

export interface VerificationRunnerDeps {
  db: SqlClient;
  blobRoot: string;
  /** Batches write under <verificationsDir>/<batch id>/. */
  verificationsDir: string;
  /** On PostgreSQL: where the batch's step jobs go. */
  stepQueue?: StepJobQueue | undefined;
  services: (runId: string, signal: AbortSignal, db: SqlClient) => Promise<ReplayServicesLike>;
  log: (line: string) => void;
}

export interface SubmittedBatch {
  batchId: string;
  /** True: stored for workers; false: running in this process. */
  queued: boolean;
}

export class VerificationRunner {
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: VerificationRunnerDeps) {}

  async submit(batch: BatchSelection & { strict: boolean; diff: boolean }): Promise<SubmittedBatch> {
    const { db, stepQueue } = this.deps;
    const batchId = newBatchId();
    const outDir = path.join(this.deps.verificationsDir, batchId);
    if (stepQueue !== undefined) {
      await enqueueBatch(
        { db, queue: stepQueue, blobRoot: this.deps.blobRoot },
        { ...batch, batchId, outDir, strict: batch.strict, diff: batch.diff },
      );
      return { batchId, queued: true };
    }
    // What the selection names is checked before the answer (an unknown id is a 404, not a log line).
    await selectTargets(db, batch.selection);
    const signal = this.stopping.signal;
    const run = runServedBatch(this.deps, { ...batch, outDir, batchId, signal }, "batch");
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return { batchId, queued: false };
  }

  /** Aborts the batches running here (their rows say interrupted) and waits for them. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.running]);
  }
}
