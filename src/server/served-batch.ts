/**
 * A batch run inside `serve` (the schedule's, or one POSTed on the embedded registry): its
 * engine services for its lifetime, then `runBatch`; its end or its failure is logged (and on
 * its row), never the server's.
 */
import type { SqlClient } from "../db/index.js";
import { messageOf } from "../errors/index.js";
import { runBatch, type BatchOptions } from "../fleet/index.js";
import { VERSION } from "../version.js";
import type { ReplayServicesLike } from "./replay-worker.js";

export interface ServedBatchDeps {
  db: SqlClient;
  blobRoot: string;
  services: (runId: string, signal: AbortSignal, db: SqlClient) => Promise<ReplayServicesLike>;
  log: (line: string) => void;
}

/** `label` starts the log lines ("batch", "scheduled batch"). */
export async function runServedBatch(
  deps: ServedBatchDeps,
  options: BatchOptions & { batchId: string; signal: AbortSignal },
  label: string,
): Promise<void> {
  const { db, log } = deps;
  try {
    await using services = await deps.services(options.batchId, options.signal, db);
    const { report } = await runBatch(
      {
        db,
        blobRoot: deps.blobRoot,
        executor: services.executor,
        images: services.images,
        differ: services.differ,
        preflight: () => services.preflight(),
        toolVersion: VERSION,
      },
      options,
    );
    log(
      `${label} ${options.batchId}: ${report.status}, ${report.summary.reproduced} of ${report.summary.targets} target(s) reproduced`,
    );
  } catch (error) {
    log(`${label} ${options.batchId} failed: ${messageOf(error)}`);
  }
}
