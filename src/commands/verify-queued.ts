/**
 * `verify --queue` (store the batch for workers) and `verify --status ID [--wait]` (how it
 * stands, or wait for its end), `verify --cancel ID`: the parts of `verify` that run no step in this process.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { SqlClient } from "../db/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import {
  PgBossStepQueue,
  batchEnded,
  batchExitCode,
  batchProgress,
  cancelBatch,
  endedState,
  enqueueBatch,
  type BatchProgress,
  type BatchReport,
  type EnqueueOptions,
  type EnqueuedBatch,
} from "../fleet/index.js";
import { visibleJson, visibleLines, visibleText } from "../terminal/index.js";

export async function queueBatch(
  db: SqlClient,
  blobRoot: string,
  options: EnqueueOptions,
): Promise<EnqueuedBatch> {
  const queue = new PgBossStepQueue(db, {
    onError: (error) => process.stderr.write(`${visibleLines(`queue: ${messageOf(error)}`)}\n`),
  });
  await queue.start();
  try {
    return await enqueueBatch({ db, queue, blobRoot }, options);
  } finally {
    await queue.stop();
  }
}

export function queuedText(batch: EnqueuedBatch): string {
  const id = visibleText(batch.batchId);
  return [
    `queued batch ${id}: ${batch.targets} target(s), ${batch.steps} distinct step(s), ${batch.runnable} runnable now${batch.leftOut > 0 ? `, ${batch.leftOut} left out` : ""}${batch.unreplayable > 0 ? `, ${batch.unreplayable} unreplayable` : ""}`,
    `  folder:   ${visibleText(batch.outDir)} (every worker must reach it at this path)`,
    `  run it:   replay-runner worker   (on each host with a Docker engine, this registry and blob store)`,
    `  follow:   replay-runner verify --status ${id} [--wait]`,
    "",
  ].join("\n");
}

function progressText(p: BatchProgress): string {
  const lines = [`batch ${visibleText(p.id)}: ${p.status}${p.verdict === null ? "" : ` (${p.verdict})`}`];
  if (p.steps !== null) {
    const s = p.steps;
    lines.push(
      `  steps: ${s.done} of ${s.total} done, ${s.running} running, ${s.queued} queued, ${s.waiting} waiting`,
    );
  }
  for (const r of p.running) {
    lines.push(
      `  running ${visibleText(r.step_id)} on ${visibleText(r.worker_host ?? "?")} (pid ${r.worker_pid ?? "?"}, attempt ${r.attempts})`,
    );
  }
  if (p.summary !== null) {
    const s = p.summary;
    lines.push(`  targets: ${s.reproduced ?? 0} of ${s.targets ?? 0} reproduced`);
  }
  if (p.error !== null) lines.push(`  error: ${visibleText(p.error)}`);
  if (p.report !== null) lines.push(`  batch: ${visibleText(p.report)}`);
  return `${lines.join("\n")}\n`;
}

/** The exit code of an ended batch as `verify` gives it; 0 for one still going. */
function progressExitCode(p: BatchProgress): number {
  if (!batchEnded(p)) return 0;
  return p.status === "finished" && p.verdict === "reproduced" ? 0 : 1;
}

const STATUS_POLL_MS = 250;

/** Prints the batch's state (or, with `wait`, its end); returns the exit code. */
export async function showStatus(
  db: SqlClient,
  batchId: string,
  options: { wait: boolean; json: boolean; signal: AbortSignal },
): Promise<number> {
  let progress = await batchProgress(db, batchId);
  while (options.wait && !batchEnded(progress) && !options.signal.aborted) {
    // A quarter of a second: the batch's end is seen ~0.1 s after it on average, not ~0.5 s
    // (benchmark 13); each poll is three indexed queries.
    await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
    progress = await batchProgress(db, batchId);
  }
  if (options.json) {
    process.stdout.write(`${visibleJson(progress)}\n`);
    return progressExitCode(progress);
  }
  process.stdout.write(progressText(progress));
  if (progress.report !== null) {
    // The verdict from batch.json, as `verify` prints it, when this host can read the folder.
    const report = await readFile(progress.report, "utf8").then(
      (text) => JSON.parse(text) as BatchReport,
      () => undefined,
    );
    if (report !== undefined) return batchExitCode(report);
  }
  return progressExitCode(progress);
}

export function statusUsage(artifactIds: string[], selecting: boolean): ReplayError | undefined {
  if (artifactIds.length > 0 || selecting)
    return new ReplayError("USAGE", "--status takes a batch id, not a selection.", {
      hint: "e.g. `replay-runner verify --status v-20261201T080000-ab12cd --wait`.",
    });
  return undefined;
}

/** What cancelling a batch left: its steps, and the folder kept. */
export function cancelledText(p: BatchProgress): string {
  const s = p.steps;
  const steps =
    s === null
      ? ""
      : `: ${s.done} of ${s.total} step(s) done, ${s.running} running (their workers stop them within seconds), nothing more starts`;
  return `cancelled batch ${visibleText(p.id)}${steps}\n  folder: ${visibleText(p.out_dir)} (kept: what was replayed so far)\n`;
}

/** `verify --cancel ID`: cancels a queued batch; returns the exit code, or throws saying why not. */
export async function cancelQueued(
  db: SqlClient,
  batchId: string,
  options: { json: boolean },
): Promise<number> {
  const result = await cancelBatch(
    db,
    batchId,
    `cancelled (verify --cancel, process ${process.pid} on ${hostname()})`,
  );
  const id = visibleText(batchId);
  if (result.outcome === "ended") {
    throw new ReplayError(
      "USAGE",
      `Batch ${id} has already ended (${endedState(result.progress)}); there is nothing to cancel.`,
      { hint: `replay-runner verify --status ${id} shows its final state.`, details: { batch_id: batchId } },
    );
  }
  if (result.outcome === "in-process") {
    const pid = result.pid === null ? "?" : String(result.pid);
    throw new ReplayError(
      "USAGE",
      `Batch ${id} runs in one verify process (pid ${pid} on host ${visibleText(result.host ?? "?")}), not on workers; --cancel stops queued batches.`,
      {
        hint: `Stop that process itself (Ctrl-C, or kill -INT ${pid} on its host): the batch then ends interrupted.`,
        details: { batch_id: batchId, pid: result.pid, host: result.host },
      },
    );
  }
  process.stdout.write(options.json ? `${visibleJson(result.progress)}\n` : cancelledText(result.progress));
  return 0;
}

export function cancelUsage(artifactIds: string[], selecting: boolean): ReplayError | undefined {
  if (artifactIds.length > 0 || selecting)
    return new ReplayError(
      "USAGE",
      "--cancel takes a batch id alone, not a selection or --queue/--status/--wait.",
      {
        hint: "e.g. `replay-runner verify --cancel v-20261201T080000-ab12cd`.",
      },
    );
  return undefined;
}
