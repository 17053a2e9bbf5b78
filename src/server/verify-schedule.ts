/**
 * `serve --verify-every`: a batch of every artifact (src/fleet) at each interval, its results in
 * the history. On PostgreSQL a pg-boss job deferred by the interval (job-queue-postgres.ts), so
 * several servers run one batch per interval between them; on the embedded registry, one
 * process, a timer. A batch runs to its end before the next is planned; stopping aborts it
 * (its containers are removed, its row says interrupted).
 */
import path from "node:path";
import type { SqlClient } from "../db/index.js";
import { messageOf } from "../errors/index.js";
import { newBatchId, runBatch } from "../fleet/index.js";
import { VERSION } from "../version.js";
import type { PgBossReplayQueue } from "./job-queue-postgres.js";
import type { ReplayServicesLike } from "./replay-worker.js";

export const VERIFY_JOB_QUEUE = "replay-runner-verifications";

export interface VerifyScheduleDeps {
  db: SqlClient;
  blobRoot: string;
  /** Batches write under <verificationsDir>/<batch id>/. */
  verificationsDir: string;
  intervalSeconds: number;
  services: (runId: string, signal: AbortSignal, db: SqlClient) => Promise<ReplayServicesLike>;
  log: (line: string) => void;
  /** On PostgreSQL: the pg-boss queue that defers each run. */
  pgBoss?: PgBossReplayQueue | undefined;
}

export class VerifySchedule {
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: VerifyScheduleDeps) {}

  async start(): Promise<void> {
    const { pgBoss, intervalSeconds, log } = this.deps;
    log(
      `verifying every artifact every ${intervalSeconds} s (${pgBoss === undefined ? "a timer" : "pg-boss"})`,
    );
    if (pgBoss !== undefined) {
      await pgBoss.repeatEvery(VERIFY_JOB_QUEUE, intervalSeconds, () => this.runOnce());
      return;
    }
    const plan = () => {
      this.timer = setTimeout(() => {
        void this.runOnce().finally(() => {
          if (!this.stopping.signal.aborted) plan();
        });
      }, intervalSeconds * 1000);
      this.timer.unref();
    };
    plan();
  }

  /** One batch; its failure is logged (and on its row), never the server's. */
  private runOnce(): Promise<void> {
    if (this.stopping.signal.aborted) return Promise.resolve();
    const { db, log } = this.deps;
    const batchId = newBatchId();
    const signal = this.stopping.signal;
    const run = (async () => {
      try {
        await using services = await this.deps.services(batchId, signal, db);
        const { report } = await runBatch(
          {
            db,
            blobRoot: this.deps.blobRoot,
            executor: services.executor,
            images: services.images,
            differ: services.differ,
            preflight: () => services.preflight(),
            toolVersion: VERSION,
          },
          {
            selection: { artifactIds: [], all: true },
            outDir: path.join(this.deps.verificationsDir, batchId),
            batchId,
            signal,
            trigger: "schedule",
          },
        );
        log(
          `scheduled batch ${batchId}: ${report.status}, ${report.summary.reproduced} of ${report.summary.targets} target(s) reproduced`,
        );
      } catch (error) {
        log(`scheduled batch ${batchId} failed: ${messageOf(error)}`);
      }
    })();
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
