/**
 * `serve --verify-every`: a batch of every artifact, or of `--verify-selection`'s (src/fleet), at
 * each interval, its results in the history. On PostgreSQL a pg-boss job deferred by the interval (job-queue-postgres.ts), so
 * several servers run one batch per interval between them; on the embedded registry, one
 * process, a timer. A batch runs to its end before the next is planned; stopping aborts it
 * (its containers are removed, its row says interrupted).
 */
import path from "node:path";
import { z } from "zod";
import type { SqlClient } from "../db/index.js";
import { describeSelection, newBatchId, type BatchSelection } from "../fleet/index.js";
import type { PgBossReplayQueue, RepeatingJob } from "./job-queue-postgres.js";
import type { ReplayServicesLike } from "./replay-worker.js";
import { runServedBatch } from "./served-batch.js";

export const VERIFY_JOB_QUEUE = "replay-runner-verifications";

export interface VerifyScheduleDeps {
  db: SqlClient;
  blobRoot: string;
  /** Batches write under <verificationsDir>/<batch id>/. */
  verificationsDir: string;
  intervalSeconds: number;
  /** --verify-selection; every artifact without it. */
  selection?: BatchSelection | undefined;
  services: (runId: string, signal: AbortSignal, db: SqlClient) => Promise<ReplayServicesLike>;
  log: (line: string) => void;
  /** On PostgreSQL: the pg-boss queue that defers each run. */
  pgBoss?: PgBossReplayQueue | undefined;
}

export const EVERY_ARTIFACT: BatchSelection = { selection: { artifactIds: [], all: true } };

/** A scheduled job's data on PostgreSQL: the interval and the selection, so every server runs the same. */
const jobDataSchema = z.object({
  every_seconds: z.number().int().positive(),
  artifact_ids: z.array(z.string()),
  all: z.boolean(),
  type: z.string().nullable(),
  recorded_since: z.iso.datetime().nullable(),
  sample: z.object({ size: z.number().int().positive(), seed: z.string() }).nullable(),
  max_steps: z.number().int().positive().nullable(),
});

export function scheduleJobOf(seconds: number, { selection, maxSteps }: BatchSelection): RepeatingJob {
  const data: z.infer<typeof jobDataSchema> = {
    every_seconds: seconds,
    artifact_ids: [...selection.artifactIds],
    all: selection.all,
    type: selection.type ?? null,
    recorded_since: selection.recordedSince?.toISOString() ?? null,
    sample: selection.sample ?? null,
    max_steps: maxSteps ?? null,
  };
  return { data, seconds };
}

/** The interval and selection a job carries; undefined for data this version cannot read. */
export function scheduleOfJob(data: unknown): { seconds: number; selection: BatchSelection } | undefined {
  const parsed = jobDataSchema.safeParse(data);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  return {
    seconds: d.every_seconds,
    selection: {
      selection: {
        artifactIds: d.artifact_ids,
        all: d.all,
        type: d.type ?? undefined,
        recordedSince: d.recorded_since === null ? undefined : new Date(d.recorded_since),
        sample: d.sample ?? undefined,
      },
      maxSteps: d.max_steps ?? undefined,
    },
  };
}

export class VerifySchedule {
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: VerifyScheduleDeps) {}

  async start(): Promise<void> {
    const { pgBoss, intervalSeconds, log } = this.deps;
    const own = this.deps.selection ?? EVERY_ARTIFACT;
    log(
      `verifying ${describeSelection(own.selection, own.maxSteps)} every ${intervalSeconds} s (${pgBoss === undefined ? "a timer" : "pg-boss"})`,
    );
    if (pgBoss !== undefined) {
      const first = scheduleJobOf(intervalSeconds, own);
      const { replaced } = await pgBoss.repeatEvery(VERIFY_JOB_QUEUE, first, async (data) => {
        // The job's own schedule (the newest server's), so every server runs the same batches.
        const job = scheduleOfJob(data);
        if (job === undefined)
          log("scheduled verification: a job this version cannot read: running this server's");
        await this.runOnce(job?.selection ?? own);
        return job === undefined ? first : scheduleJobOf(job.seconds, job.selection);
      });
      if (replaced > 0) log(`replaced the waiting scheduled verification (another interval or selection)`);
      return;
    }
    const plan = () => {
      this.timer = setTimeout(() => {
        void this.runOnce(own).finally(() => {
          if (!this.stopping.signal.aborted) plan();
        });
      }, intervalSeconds * 1000);
      this.timer.unref();
    };
    plan();
  }

  /** One batch; its failure is logged (and on its row), never the server's. */
  private runOnce({ selection, maxSteps }: BatchSelection): Promise<void> {
    if (this.stopping.signal.aborted) return Promise.resolve();
    const batchId = newBatchId();
    const signal = this.stopping.signal;
    const run = runServedBatch(
      this.deps,
      {
        selection,
        maxSteps,
        outDir: path.join(this.deps.verificationsDir, batchId),
        batchId,
        signal,
        trigger: "schedule",
      },
      "scheduled batch",
    );
    this.running = run;
    return run;
  }

  /** Stops planning batches; aborts the one running and waits for it. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running;
  }
}
