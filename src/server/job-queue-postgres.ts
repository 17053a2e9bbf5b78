/**
 * On PostgreSQL, served replays are pg-boss jobs, so every serve process on every machine
 * shares the work and a queued replay survives any restart. pg-boss talks to the database
 * through our SqlClient (its `db.executeSql` option): the pool, error translation and the rule
 * "only src/db/sql-client.ts imports pg" stay as they are.
 *
 * pg-boss itself has no heartbeat: a job whose worker died stays `active` until it expires. Our
 * own sweep (orphan-sweep.ts) notices a dead worker within seconds and calls `abandon`, which
 * fails the job with the reason; the job is given a long expiry only as a last resort.
 */
import PgBoss from "pg-boss";
import { z } from "zod";
import { PG_BOSS_SCHEMA, pgBossExecutor, type SqlClient } from "../db/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import type { ReplayJobHandler, ReplayQueue } from "./replay-queue.js";

export const REPLAY_JOB_QUEUE = "replay-runner-replays";
export { PG_BOSS_SCHEMA };

const jobDataSchema = z.object({ replay_id: z.string().min(1) });

/** A job of a repeating queue: its data, and how long after it is sent it may run. */
export interface RepeatingJob {
  data: Record<string, unknown>;
  seconds: number;
}

export interface PostgresQueueOptions {
  concurrency: number;
  pollingIntervalSeconds?: number;
  onError: (error: unknown) => void;
}

export class PgBossReplayQueue implements ReplayQueue {
  readonly kind = "pg-boss";
  private readonly boss: PgBoss;
  private readonly repeating: string[] = [];

  constructor(
    private readonly db: SqlClient,
    private readonly options: PostgresQueueOptions,
  ) {
    this.boss = new PgBoss({
      db: pgBossExecutor(db),
      schema: PG_BOSS_SCHEMA,
      migrate: true,
      supervise: true,
      schedule: false,
      maintenanceIntervalSeconds: 60,
    });
    this.boss.on("error", (error: unknown) => {
      options.onError(error);
    });
  }

  async start(handler: ReplayJobHandler): Promise<void> {
    try {
      await this.boss.start();
      await this.boss.createQueue(REPLAY_JOB_QUEUE, {
        name: REPLAY_JOB_QUEUE,
        policy: "standard",
        // Attempts are counted on the replay row (a dead worker's replay is re-queued once).
        retryLimit: 0,
        // Our heartbeat finds dead workers; the expiry only bounds a job no sweep ever settled.
        expireInHours: 23,
      });
    } catch (error) {
      throw new ReplayError(
        "DATABASE_UNAVAILABLE",
        `Cannot start the pg-boss job queue: ${messageOf(error)}`,
        { cause: error },
      );
    }
    for (let i = 0; i < Math.max(1, this.options.concurrency); i++) {
      await this.boss.work(
        REPLAY_JOB_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 1 },
        async (jobs) => {
          for (const job of jobs) {
            const data = jobDataSchema.safeParse(job.data);
            if (data.success) await handler(data.data.replay_id, job.id);
            else this.options.onError(new Error(`job ${job.id} carries no replay id: ${data.error.message}`));
          }
        },
      );
    }
  }

  /**
   * Runs `handler` with each job's data, once across every serve process of the database: a
   * "stately" queue holds at most one waiting and one running job, each run sends the next one
   * (the data and delay the handler returns, as `startAfter`), and a server that starts while
   * one waits adds none. A waiting job whose data is not `first.data` (sent by a server started
   * with another interval or selection) is deleted first, so the newest server's schedule
   * applies from now on. A run whose server died expires and is retried by pg-boss.
   */
  async repeatEvery(
    name: string,
    first: RepeatingJob,
    handler: (data: unknown) => Promise<RepeatingJob>,
  ): Promise<{ replaced: number }> {
    try {
      await this.boss.createQueue(name, {
        name,
        policy: "stately",
        retryLimit: 1,
        // pg-boss's longest: a batch still running after it is taken for dead and run again.
        expireInHours: 23,
      });
    } catch (error) {
      throw new ReplayError(
        "DATABASE_UNAVAILABLE",
        `Cannot create the pg-boss queue ${name}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    const send = (job: RepeatingJob) => this.boss.send(name, job.data, { startAfter: job.seconds });
    this.repeating.push(name);
    // pg-boss has no "replace the waiting job": one statement on its job table, which never
    // touches a job already active (pg-boss's deleteJob would). jsonb equality ignores key order.
    // Before working the queue: this server never runs a job of another schedule it replaces.
    const replaced = await this.db.query(
      `DELETE FROM ${PG_BOSS_SCHEMA}.job
       WHERE name = $1 AND state < 'active' AND data IS DISTINCT FROM $2::jsonb RETURNING id`,
      [name, JSON.stringify(first.data)],
    );
    await this.boss.work(name, { batchSize: 1, pollingIntervalSeconds: 1 }, async (jobs) => {
      let next = first;
      try {
        for (const job of jobs) next = await handler(job.data);
      } finally {
        await send(next).catch((error: unknown) => {
          this.options.onError(error);
        });
      }
    });
    await send(first);
    return { replaced: replaced.length };
  }

  async dispatch(replayId: string): Promise<string | null> {
    return this.boss.send(REPLAY_JOB_QUEUE, { replay_id: replayId }, { retryLimit: 0, expireInHours: 23 });
  }

  async abandon(jobId: string, reason: string): Promise<void> {
    await this.boss.fail(REPLAY_JOB_QUEUE, jobId, { reason });
  }

  async stop(): Promise<void> {
    await this.boss.offWork(REPLAY_JOB_QUEUE);
    for (const name of this.repeating) await this.boss.offWork(name);
    // Running handlers were already stopped by the worker; do not let pg-boss wait 30 s more.
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000, close: false });
  }
}
