/**
 * How queued replays reach a worker. The replays table is the truth (see replay-store.ts); a
 * queue only delivers "look at replay X", at least once, to some serve process.
 *  - PostgreSQL: pg-boss jobs (job-queue-postgres.ts), shared by every serve process.
 *  - Embedded: the queued rows themselves, polled by the one process (job-queue-embedded.ts).
 */
export type ReplayJobHandler = (replayId: string, jobId: string | null) => Promise<void>;

export interface ReplayQueue {
  readonly kind: "pg-boss" | "embedded";
  /** Starts delivering jobs to the handler, at most `concurrency` at a time in this process. */
  start(handler: ReplayJobHandler): Promise<void>;
  /** Delivers a queued replay (again); returns the job id when the queue has one. */
  dispatch(replayId: string): Promise<string | null>;
  /** The worker of this job died: the queue records the job as failed with the reason. */
  abandon(jobId: string, reason: string): Promise<void>;
  /** Stops taking jobs; the handlers still running are the worker's to stop. */
  stop(): Promise<void>;
}
