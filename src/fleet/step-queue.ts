/**
 * The jobs of queued batches, in pg-boss (its tables in PG_BOSS_SCHEMA, beside serve's replay
 * jobs): one job per runnable step, one finalize job per batch. pg-boss does the locking
 * (SKIP LOCKED fetches), retries, expiry and the singleton keys that keep one job per step;
 * jobs are sent inside the transaction that marks their step queued, so a row says queued
 * exactly when its job exists. pg-boss talks to the database through our SqlClient.
 */
import type PgBoss from "pg-boss";
import { z } from "zod";
import {
  PG_BOSS_SCHEMA,
  pgBossExecutor,
  type Listener,
  type SqlClient,
  type SqlQueryable,
} from "../db/index.js";
import { ReplayError, messageOf } from "../errors/index.js";

export const STEP_JOB_QUEUE = "replay-runner-batch-steps";
export const FINALIZE_JOB_QUEUE = "replay-runner-batch-finalize";
/**
 * NOTIFY'd by the transaction that sends a job (delivered when it commits): every process
 * working the queues fetches at once instead of at its next poll. Polling still finds every
 * job; the notification only makes an idle worker on another host start sooner.
 */
export const JOBS_CHANNEL = "replay_runner_batch_jobs";

/**
 * Attempts of one job. A worker that stops hands its step back (a failed attempt); one that
 * dies is found by the others' sweep, which fails its job. Deaths are also counted on the
 * step's row (batch-steps.ts), which gives up after MAX_STEP_ATTEMPTS.
 */
const JOB_RETRIES = 20;
/** Only when no worker sweeps at all: a dead worker's job comes back after this. */
const STEP_EXPIRY_SECONDS = 6 * 3600;

export interface StepJob {
  batchId: string;
  stepId: string;
  /**
   * Steps between it and the batch's first (0 or absent: a step runnable from the start; a
   * child the job of a step at depth d unblocks: d + 1). Deeper jobs are taken first (pg-boss's
   * priority), so a worker goes on down a chain it has started instead of starting every root
   * first: a target's steps finish sooner, and the cheap roots fill gaps instead of a queue.
   */
  depth?: number;
}

const stepJobSchema = z.object({
  batch_id: z.string().min(1),
  step_id: z.string().min(1),
  depth: z.number().int().nonnegative().optional(),
});
const finalizeJobSchema = z.object({ batch_id: z.string().min(1) });

/** What the fleet needs of a queue; pg-boss's below, a test's or another backend's elsewhere. */
export interface StepJobQueue {
  start(): Promise<void>;
  /** Sends within `tx` (the transaction that marks the step queued) when given. */
  sendStep(job: StepJob, tx?: SqlQueryable): Promise<void>;
  sendFinalize(batchId: string, tx?: SqlQueryable): Promise<void>;
  /** Takes step jobs, `concurrency` at a time; a handler that throws fails the attempt (retried). */
  workSteps(concurrency: number, handler: (job: StepJob, jobId: string) => Promise<void>): Promise<void>;
  workFinalize(handler: (batchId: string) => Promise<void>): Promise<void>;
  /** Fails a job's attempt (its worker is gone): pg-boss gives it to the next worker. */
  retry(jobId: string, reason: string): Promise<void>;
  /**
   * Jobs were sent (and committed) by this process: its idle pollers fetch now instead of at
   * their next poll. Optional: a queue without it finds them at its next poll.
   */
  wake?(): void;
  /** Stops taking jobs; running handlers are the caller's to end. */
  stopWorking(): Promise<void>;
  stop(): Promise<void>;
}

export interface PgBossStepQueueOptions {
  onError: (error: unknown) => void;
  pollingIntervalSeconds?: number | undefined;
}

export class PgBossStepQueue implements StepJobQueue {
  /** Loaded and made by start(): a command that never queues does not load pg-boss (and pg). */
  private made: PgBoss | undefined;
  private started = false;
  /** pg-boss's ids of this process's pollers, for notifyWorker. */
  private readonly workerIds = new Set<string>();
  private listener: Promise<Listener | undefined> | undefined;
  /** Transactions already notified: PostgreSQL sends one notification per transaction anyway. */
  private readonly notified = new WeakSet<SqlQueryable>();

  constructor(
    private readonly db: SqlClient,
    private readonly options: PgBossStepQueueOptions,
  ) {
    if (db.backend !== "postgres")
      throw new ReplayError("USAGE", "Queued batches need the registry on PostgreSQL.", {
        hint: "Set REPLAY_DATABASE_URL to the PostgreSQL registry; on the embedded registry `verify` runs the batch in one process.",
      });
  }

  private get boss(): PgBoss {
    if (this.made === undefined) throw new ReplayError("INTERNAL", "The step queue was used before start().");
    return this.made;
  }

  async start(): Promise<void> {
    if (this.started) return;
    try {
      if (this.made === undefined) {
        const { default: PgBossQueue } = await import("pg-boss");
        const boss = new PgBossQueue({
          db: pgBossExecutor(this.db),
          schema: PG_BOSS_SCHEMA,
          migrate: true,
          supervise: true,
          schedule: false,
          maintenanceIntervalSeconds: 60,
        });
        boss.on("error", (error: unknown) => {
          this.options.onError(error);
        });
        this.made = boss;
      }
      await this.boss.start();
      for (const name of [STEP_JOB_QUEUE, FINALIZE_JOB_QUEUE]) {
        await this.boss.createQueue(name, {
          name,
          policy: "standard",
          retryLimit: JOB_RETRIES,
          retryDelay: 0,
          expireInSeconds: STEP_EXPIRY_SECONDS,
        });
      }
      this.started = true;
    } catch (error) {
      throw new ReplayError(
        "DATABASE_UNAVAILABLE",
        `Cannot start the pg-boss job queue: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async sendStep(job: StepJob, tx?: SqlQueryable): Promise<void> {
    await this.boss.send(
      STEP_JOB_QUEUE,
      {
        batch_id: job.batchId,
        step_id: job.stepId,
        ...(job.depth === undefined ? {} : { depth: job.depth }),
      },
      {
        priority: job.depth ?? 0,
        singletonKey: JSON.stringify([job.batchId, job.stepId]),
        retryLimit: JOB_RETRIES,
        retryDelay: 0,
        expireInSeconds: STEP_EXPIRY_SECONDS,
        ...(tx === undefined ? {} : { db: pgBossExecutor(tx) }),
      },
    );
    await this.notify(tx);
  }

  async sendFinalize(batchId: string, tx?: SqlQueryable): Promise<void> {
    await this.boss.send(
      FINALIZE_JOB_QUEUE,
      { batch_id: batchId },
      {
        singletonKey: batchId,
        retryLimit: JOB_RETRIES,
        retryDelay: 1,
        expireInSeconds: 3600,
        ...(tx === undefined ? {} : { db: pgBossExecutor(tx) }),
      },
    );
    await this.notify(tx);
  }

  /** In `tx`, PostgreSQL sends it at commit, and once however many jobs the transaction sent. */
  private async notify(tx: SqlQueryable | undefined): Promise<void> {
    if (tx !== undefined && this.notified.has(tx)) return;
    if (tx !== undefined) this.notified.add(tx);
    await (tx ?? this.db).query("SELECT pg_notify($1, '')", [JOBS_CHANNEL]);
  }

  /** Listens for other processes' jobs, once, from the first poller on. */
  private listenForJobs(): void {
    const wake = () => {
      this.wake();
    };
    this.listener ??= (this.db.listen?.(JOBS_CHANNEL, wake) ?? Promise.resolve(undefined)).catch(
      (error: unknown) => {
        // Polling still finds every job: a worker that cannot listen is only slower to start.
        this.options.onError(error);
        return undefined;
      },
    );
  }

  async workSteps(
    concurrency: number,
    handler: (job: StepJob, jobId: string) => Promise<void>,
  ): Promise<void> {
    this.listenForJobs();
    await this.listener;
    for (let i = 0; i < Math.max(1, concurrency); i++) {
      let id = "";
      id = await this.boss.work(
        STEP_JOB_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 0.5 },
        async (jobs) => {
          try {
            for (const job of jobs) {
              const data = stepJobSchema.safeParse(job.data);
              // A job we cannot read is completed (and logged): retrying it cannot help.
              if (!data.success) {
                this.options.onError(new Error(`step job ${job.id} is malformed: ${data.error.message}`));
                continue;
              }
              const { batch_id, step_id, depth } = data.data;
              await handler(
                { batchId: batch_id, stepId: step_id, ...(depth === undefined ? {} : { depth }) },
                job.id,
              );
            }
          } finally {
            // A poller that found a job fetches again at once: pg-boss would otherwise wait out
            // the rest of its polling interval after a job shorter than it (an ingest step, a
            // step found taken), with more jobs waiting. One that finds none waits as before.
            if (jobs.length > 0) this.boss.notifyWorker(id);
          }
        },
      );
      this.workerIds.add(id);
    }
  }

  async workFinalize(handler: (batchId: string) => Promise<void>): Promise<void> {
    this.listenForJobs();
    await this.listener;
    const id = await this.boss.work(
      FINALIZE_JOB_QUEUE,
      { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 0.5 },
      async (jobs) => {
        for (const job of jobs) {
          const data = finalizeJobSchema.safeParse(job.data);
          if (!data.success) {
            this.options.onError(new Error(`finalize job ${job.id} is malformed: ${data.error.message}`));
            continue;
          }
          await handler(data.data.batch_id);
        }
      },
    );
    this.workerIds.add(id);
  }

  wake(): void {
    for (const id of this.workerIds) this.boss.notifyWorker(id);
  }

  async retry(jobId: string, reason: string): Promise<void> {
    await this.boss.fail(STEP_JOB_QUEUE, jobId, { reason });
  }

  async stopWorking(): Promise<void> {
    if (this.made === undefined) return;
    await this.boss.offWork(STEP_JOB_QUEUE);
    await this.boss.offWork(FINALIZE_JOB_QUEUE);
    this.workerIds.clear();
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await (await listener)?.close();
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000, close: false });
  }
}
