/**
 * A worker of queued batches (`replay-runner worker`, and `serve` on PostgreSQL): takes step
 * jobs, replays each step in this host's engine through the scheduler every replay uses (one
 * step, its upstream outputs read from the batch's store), stores the output, records the row
 * once and queues what it unblocked; takes finalize jobs. Beside that, every few seconds, it
 * beats for its running steps and looks for steps whose worker is gone: those go back to the
 * queue (their containers on this host are reaped), so a batch always ends.
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { walkChain } from "../chain/index.js";
import type { ChainStep } from "../chain/types.js";
import type { SqlClient } from "../db/index.js";
import type { PayloadDiffer } from "../diagnose/index.js";
import { messageOf } from "../errors/index.js";
import { removeTree } from "../fs/index.js";
import { handlerFor } from "../handlers/index.js";
import type { ImageResolver } from "../images/types.js";
import {
  OWNER_HEARTBEAT_MS,
  OWNER_STALE_SECONDS,
  OutDir,
  VerifiedBlobs,
  localJudge,
  ownerGone,
  replaySteps,
  type ManifestStep,
  type ReplayOwner,
  type UpstreamResult,
} from "../replay/index.js";
import type { StepExecutor } from "../runner/types.js";
import { failBatchRecord } from "./batch-record.js";
import {
  MAX_STEP_ATTEMPTS,
  claimStep,
  heartbeatSteps,
  recordStep,
  releaseStep,
  runningSteps,
  upstreamRows,
  type ClaimedStep,
} from "./batch-steps.js";
import { storeStepOutput, storedPayloadPath, workFolder } from "./batch-store.js";
import { finalizeBatch } from "./finalize-batch.js";
import type { StepJob, StepJobQueue } from "./step-queue.js";

export interface StepWorkerDeps {
  db: SqlClient;
  queue: StepJobQueue;
  blobRoot: string;
  executor: StepExecutor;
  images: ImageResolver;
  differ?: PayloadDiffer | undefined;
  toolVersion: string;
  /** This process as the owner of the steps it claims (serve passes its worker identity). */
  owner: ReplayOwner;
  log: (line: string) => void;
  /** Checks the engine before the first container step. */
  preflight?: (() => Promise<void>) | undefined;
  /** Removes what processes of this host that are gone left on the engine (their containers). */
  reapDead?: (() => Promise<void>) | undefined;
  /** How often the sweep and the heartbeat run (tests shorten it). */
  sweepMs?: number | undefined;
}

/** A handled job's end, for the log and the tests. */
export type StepJobOutcome =
  { kind: "recorded"; row: ManifestStep } | { kind: "skipped"; why: string } | { kind: "refused" };

class HandedBack extends Error {}

const stepKey = (batchId: string, stepId: string) => JSON.stringify([batchId, stepId]);

export class StepWorker {
  private readonly stopping = new AbortController();
  private readonly blobs: VerifiedBlobs;
  private readonly running = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private preflight: Promise<void> | undefined;
  /** Each running step's own stop, by batch and step: aborted when its batch ends under it. */
  private readonly stepStops = new Map<string, AbortController>();

  constructor(private readonly deps: StepWorkerDeps) {
    this.blobs = new VerifiedBlobs(deps.blobRoot);
  }

  async start(concurrency: number): Promise<void> {
    const { queue } = this.deps;
    await queue.start();
    await this.sweep();
    await queue.workSteps(concurrency, (job, jobId) =>
      this.track(this.runStepJob(job, jobId), `batch ${job.batchId}: step ${job.stepId}`),
    );
    await queue.workFinalize((batchId) => this.track(this.finalize(batchId), `batch ${batchId}: finalizing`));
    this.timer = setInterval(() => {
      void this.beat();
    }, this.deps.sweepMs ?? OWNER_HEARTBEAT_MS);
    this.timer.unref();
  }

  /** A method, not a property read: the signal changes across awaits. */
  private stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Stops taking jobs; running steps are handed back to the queue (another worker replays them). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.deps.queue.stopWorking().catch(() => undefined);
    await Promise.allSettled([...this.running]);
    await this.deps.queue.stop().catch(() => undefined);
  }

  /** Keeps `work` until it ends (stop waits for it); a failure is logged, then pg-boss retries the job. */
  private async track<T>(work: Promise<T>, what: string): Promise<void> {
    this.running.add(work);
    try {
      await work;
    } catch (error) {
      this.deps.log(
        `${what}: ${messageOf(error)}${error instanceof HandedBack ? "" : " (the job is retried)"}`,
      );
      throw error;
    } finally {
      this.running.delete(work);
    }
  }

  private async beat(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const ended of await heartbeatSteps(this.deps.db, this.deps.owner.id))
        this.stepStops.get(stepKey(ended.batchId, ended.stepId))?.abort();
      await this.sweep();
    } catch (error) {
      this.deps.log(`worker sweep: ${messageOf(error)}`);
    } finally {
      this.sweeping = false;
    }
  }

  /** Steps whose worker is gone go back to the queue, with a fresh job; their containers here are reaped. */
  async sweep(): Promise<number> {
    const { db, queue, owner, log } = this.deps;
    const judge = localJudge(db, { self: owner });
    let handed = 0;
    for (const row of await runningSteps(db, OWNER_STALE_SECONDS)) {
      const reason = ownerGone({ ...row, id: row.step_id, submitted_via: null }, judge);
      if (reason === undefined || row.worker_id === null) continue;
      // Its containers here go first: once the step is queued again, a woken worker may start
      // it at once, and the dead worker's run must not finish beside the new one.
      if (row.worker_host === owner.host) await this.deps.reapDead?.().catch(() => undefined);
      const released = await releaseStep(db, {
        batchId: row.batch_id,
        stepId: row.step_id,
        ownerId: row.worker_id,
        attempts: row.attempts,
      });
      if (!released) continue;
      handed++;
      log(`batch ${row.batch_id}: step ${row.step_id} queued again: ${reason}`);
      // The dead worker's job is failed (pg-boss would retry it), and a new one sent in case
      // it had already ended: a job that finds its step taken or done does nothing.
      if (row.job_id !== null) await queue.retry(row.job_id, reason).catch(() => undefined);
      await queue.sendStep({ batchId: row.batch_id, stepId: row.step_id });
    }
    return handed;
  }

  private async finalize(batchId: string): Promise<void> {
    const outcome = await finalizeBatch({ db: this.deps.db, toolVersion: this.deps.toolVersion }, batchId);
    if (outcome !== undefined)
      this.deps.log(
        `batch ${batchId}: ${outcome.report.status}, ${outcome.report.summary.reproduced} of ${outcome.report.summary.targets} target(s) reproduced`,
      );
  }

  /** One step job: claim, replay, store, record once, queue what it unblocked. */
  async runStepJob(job: StepJob, jobId: string): Promise<StepJobOutcome> {
    const { db, owner } = this.deps;
    if (this.stopped()) throw new HandedBack("the worker is stopping");
    const claim = await claimStep(db, job.batchId, job.stepId, owner, jobId);
    if (claim === null) return { kind: "skipped", why: "the step is taken or done, or its batch ended" };
    const release = () =>
      releaseStep(db, {
        batchId: job.batchId,
        stepId: job.stepId,
        ownerId: owner.id,
        attempts: claim.attempts,
      });
    let cs: ChainStep | undefined;
    try {
      const chain = await walkChain(db, claim.targetArtifactId);
      cs = chain.steps.find((s) => s.step.id === job.stepId);
    } catch (error) {
      await release();
      await this.failBatch(job.batchId, `the registry changed under the queued batch: ${messageOf(error)}`);
      return { kind: "skipped", why: "the registry changed" };
    }
    if (cs === undefined) {
      await release();
      await this.failBatch(
        job.batchId,
        `the registry changed under the queued batch: ${claim.targetArtifactId} is no longer produced by step ${job.stepId}`,
      );
      return { kind: "skipped", why: "the registry changed" };
    }
    try {
      const { row, output, scratch, batchEnded } = await this.replay(job, claim, cs);
      try {
        if (batchEnded && row.status === "interrupted") {
          await release();
          this.deps.log(
            `batch ${job.batchId}: step ${job.stepId} stopped, its batch has ended (cancelled or failed)`,
          );
          return { kind: "skipped", why: "its batch ended while the step ran" };
        }
        if (this.stopped() && row.status === "interrupted") {
          await release();
          throw new HandedBack("the worker stopped mid-step");
        }
        const stored = await storeStepOutput(claim.outDir, scratch.dir, row, output);
        return await this.record(job, claim, stored);
      } finally {
        await scratch.release();
        await removeTree(scratch.dir).catch(() => undefined);
      }
    } catch (error) {
      if (!(error instanceof HandedBack)) await release().catch(() => undefined);
      // Thrown: pg-boss counts a failed attempt and gives the job to the next worker.
      throw error;
    }
  }

  private async failBatch(batchId: string, reason: string): Promise<void> {
    await failBatchRecord(this.deps.db, batchId, reason);
    this.deps.log(`batch ${batchId}: failed: ${reason}`);
  }

  private async replay(
    job: StepJob,
    claim: ClaimedStep,
    cs: ChainStep,
  ): Promise<{
    row: ManifestStep;
    output: { file: string; contentHash: string } | null;
    scratch: OutDir;
    /** The step was stopped because its batch ended (verify --cancel) while it ran. */
    batchEnded: boolean;
  }> {
    const { deps, blobs } = this;
    const upstreamResults = new Map<string, UpstreamResult>();
    for (const up of await upstreamRows(deps.db, job.batchId, claim.upstream)) {
      if (up.status !== "done" || up.row === null)
        throw new Error(
          `internal: step ${job.stepId} was queued before its upstream step ${up.step_id} was done`,
        );
      upstreamResults.set(up.row.target_artifact_id, {
        row: up.row,
        replayed:
          up.replayed_hash === null
            ? null
            : {
                file: await this.payloadFile(claim.outDir, up.replayed_hash),
                contentHash: up.replayed_hash,
                size: Number(up.replayed_size ?? 0),
              },
      });
    }
    const scratch = await OutDir.acquire(workFolder(claim.outDir, deps.owner.id), job.batchId);
    // Aborted by the worker stopping, or by the heartbeat finding the step's batch ended.
    const stop = new AbortController();
    const key = stepKey(job.batchId, job.stepId);
    const onStopping = () => {
      stop.abort();
    };
    this.stopping.signal.addEventListener("abort", onStopping, { once: true });
    if (this.stopped()) stop.abort();
    this.stepStops.set(key, stop);
    try {
      if (handlerFor(cs.step.stepType)?.mode === "container") {
        this.preflight ??= (deps.preflight?.() ?? Promise.resolve()).then(() => deps.executor.ready?.());
        await this.preflight;
      }
      // A step attempted again and again (its workers died, or failed on it) is recorded failed,
      // from the row the scheduler writes for a step it did not run, so that its batch ends.
      const givenUp = claim.attempts > MAX_STEP_ATTEMPTS;
      const signal = givenUp ? AbortSignal.abort() : stop.signal;
      const { rows } = await replaySteps(
        {
          blobs,
          executor: deps.executor,
          images: deps.images,
          runId: job.batchId,
          signal,
          jobs: 1,
          out: scratch,
          reporter: {},
          diff: claim.diff,
          differ: deps.differ,
          upstreamResults,
        },
        [cs],
        () => false,
      );
      const row = rows[0];
      if (row === undefined) throw new Error(`internal: the scheduler returned no row for ${job.stepId}`);
      if (givenUp) {
        row.status = "failed";
        row.reason = `not run: ${claim.attempts - 1} attempts ended without a result (their workers died or failed)`;
      }
      const batchEnded = stop.signal.aborted && !this.stopped();
      return { row, output: this.outputOf(row, scratch), scratch, batchEnded };
    } catch (error) {
      await scratch.release();
      await removeTree(scratch.dir).catch(() => undefined);
      throw error;
    } finally {
      this.stepStops.delete(key);
      this.stopping.signal.removeEventListener("abort", onStopping);
    }
  }

  /** Where the step's replayed bytes are: promoted in the scratch folder, or an ingest step's blob. */
  private outputOf(row: ManifestStep, scratch: OutDir): { file: string; contentHash: string } | null {
    const hash = row.output_hash_replayed;
    if (hash === null) return null;
    if (row.payload !== null) return { file: path.join(scratch.dir, row.payload), contentHash: hash };
    // An ingest step's bytes are the blob: intact, downstream reads it from the blob store.
    if (hash === row.output_hash_live) return null;
    return { file: this.blobs.pathFor(row.output_hash_live), contentHash: hash };
  }

  /** An upstream output: in the batch's store, or (an intact ingest blob) in the blob store. */
  private async payloadFile(batchDir: string, contentHash: string): Promise<string> {
    const stored = storedPayloadPath(batchDir, contentHash);
    const inStore = await lstat(stored).then(
      () => true,
      () => false,
    );
    return inStore ? stored : this.blobs.pathFor(contentHash);
  }

  private async record(job: StepJob, claim: ClaimedStep, row: ManifestStep): Promise<StepJobOutcome> {
    const { db, queue, owner, log } = this.deps;
    const result = await db.transaction(async (tx) => {
      const recorded = await recordStep(tx, {
        batchId: job.batchId,
        stepId: job.stepId,
        ownerId: owner.id,
        attempts: claim.attempts,
        row,
        replayed:
          row.output_hash_replayed === null
            ? null
            : { contentHash: row.output_hash_replayed, size: row.size_replayed ?? 0 },
      });
      const depth = (job.depth ?? 0) + 1;
      for (const stepId of recorded.unblocked)
        await queue.sendStep({ batchId: job.batchId, stepId, depth }, tx);
      if (recorded.complete) await queue.sendFinalize(job.batchId, tx);
      return recorded;
    });
    // Committed: this process's idle pollers take what it queued now, not at their next poll.
    if (result.unblocked.length > 0 || result.complete) queue.wake?.();
    if (!result.recorded) {
      log(
        `batch ${job.batchId}: step ${job.stepId} was taken by another worker meanwhile; this replay is dropped`,
      );
      return { kind: "refused" };
    }
    return { kind: "recorded", row };
  }
}
