/**
 * A queued batch's finalize job, run by whichever worker takes it once every step is recorded:
 * the plan again from the registry (the targets it stored), each recorded row with its files
 * linked from the store into the layout of an in-process batch, then what `runBatch` writes at
 * its end (writeBatchOutcome). Idempotent: a retried attempt (its worker died) starts over.
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import type { SqlClient } from "../db/index.js";
import { messageOf } from "../errors/index.js";
import { OutDir, type ManifestStep } from "../replay/index.js";
import { writeBatchOutcome, type BatchOutcome } from "./batch-outcome.js";
import { planBatch } from "./batch-plan.js";
import { failBatchRecord } from "./batch-record.js";
import { batchStepRows } from "./batch-steps.js";
import { removeFinalOutputs, removeStore, storedPayloadPath } from "./batch-store.js";
import { queuedPlanSchema } from "./queued-plan.js";

export interface FinalizeDeps {
  db: SqlClient;
  toolVersion: string;
}

/**
 * The batch's outcome; undefined when there is nothing to finalize (done already, or not
 * ready). Any failure ends the batch, failed with the reason (its rows stay, to look into).
 */
export async function finalizeBatch(deps: FinalizeDeps, batchId: string): Promise<BatchOutcome | undefined> {
  try {
    return await finalizeOnce(deps, batchId);
  } catch (error) {
    await failBatchRecord(deps.db, batchId, `finalizing failed: ${messageOf(error)}`).catch(() => undefined);
    throw error;
  }
}

async function finalizeOnce(deps: FinalizeDeps, batchId: string): Promise<BatchOutcome | undefined> {
  const { db } = deps;
  const batches = await db.query<{
    out_dir: string;
    selection: string;
    plan: unknown;
    started_at: Date | string;
  }>(
    `SELECT out_dir, selection, plan, started_at FROM replay_runner.verifications WHERE id = $1 AND status = 'queued'`,
    [batchId],
  );
  const batch = batches[0];
  if (batch === undefined) return undefined;
  const steps = await batchStepRows(db, batchId);
  if (steps.some((s) => s.status !== "done" || s.row === null)) return undefined;
  const stored = queuedPlanSchema.safeParse(batch.plan);
  if (!stored.success) {
    await failBatchRecord(db, batchId, `its stored plan is unreadable: ${stored.error.message}`);
    return undefined;
  }
  const planned = await planBatch(db, stored.data.targets);
  const recorded = new Map(steps.map((s) => [s.step_id, s]));
  const changed = planned.steps.filter((cs) => !recorded.has(cs.step.id)).map((cs) => cs.step.id);
  if (changed.length > 0 || planned.steps.length !== steps.length) {
    await failBatchRecord(
      db,
      batchId,
      `the registry changed under the queued batch: its chains now hold other steps (${changed.slice(0, 5).join(", ") || "fewer"}); queue it again`,
    );
    return undefined;
  }
  let out: OutDir | undefined;
  try {
    await removeFinalOutputs(batch.out_dir);
    out = await OutDir.acquire(batch.out_dir, batchId, { ownEntries: ["store", "work"] });
    const rows: ManifestStep[] = [];
    for (const cs of planned.steps) {
      const step = recorded.get(cs.step.id);
      if (step?.row == null) continue;
      rows.push(await adoptFiles(out, batch.out_dir, step.row, step.replayed_hash));
    }
    const outcome = await writeBatchOutcome({
      db,
      out,
      batchId,
      toolVersion: deps.toolVersion,
      selection: batch.selection,
      plan: {
        targets: planned.targets,
        // Left out and unreplayable as they were when the batch was planned.
        leftOut: stored.data.left_out.map((t) => ({ artifactId: t.artifact_id, steps: t.steps })),
        broken: stored.data.unreplayable.map((t) => ({ artifactId: t.artifact_id, reason: t.reason })),
        dependents: planned.dependents,
      },
      rows,
      options: {
        strict: stored.data.options.strict,
        diff: stored.data.options.diff,
        jobs: 1,
        maxSteps: stored.data.options.max_steps,
      },
      startedAt: new Date(batch.started_at),
      finishedAt: new Date(),
      interrupted: false,
      warnings: [],
    });
    await removeStore(batch.out_dir).catch(() => undefined); // what is left is only space
    return outcome;
  } finally {
    await out?.release();
  }
}

/** The row with its payload and diff reports linked from the store into artifacts/ and diffs/. */
async function adoptFiles(
  out: OutDir,
  batchDir: string,
  row: ManifestStep,
  replayedHash: string | null,
): Promise<ManifestStep> {
  const adopted = structuredClone(row);
  if (adopted.payload !== null && replayedHash !== null) {
    const file = await out.adopt(
      storedPayloadPath(batchDir, replayedHash),
      "artifacts",
      row.target_artifact_id,
      "",
    );
    adopted.payload = out.relative(file);
  } else {
    adopted.payload = null;
  }
  const diff = adopted.diff;
  if (diff !== null) {
    const adoptDiff = async (file: string | null): Promise<string | null> => {
      if (file === null || file === "") return file;
      const source = path.join(batchDir, file);
      const present = await lstat(source).then(
        () => true,
        () => false,
      );
      if (!present) return null;
      return out.relative(await out.adopt(source, "diffs", row.step_id, path.extname(file)));
    };
    diff.files = {
      text: (await adoptDiff(diff.files.text)) ?? "",
      html: await adoptDiff(diff.files.html),
      json: await adoptDiff(diff.files.json),
    };
  }
  return adopted;
}
