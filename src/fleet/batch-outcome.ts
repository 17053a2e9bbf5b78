/**
 * The end of every batch, run in one process or queued: each target's own manifest cut out of
 * the shared rows, `<out>/batch.json`, one history entry per verified target, and the batch's
 * row finished. `runBatch` calls it once its scheduler is done; a queued batch's finalize job
 * calls it with the rows its workers recorded.
 */
import path from "node:path";
import type { SqlClient } from "../db/index.js";
import { makeFolders } from "../fs/index.js";
import { recordHistory } from "../history/index.js";
import {
  buildManifest,
  historyEntryOf,
  markDivergence,
  plainOptions,
  safeFileName,
  type Manifest,
  type ManifestStep,
  type OutDir,
} from "../replay/index.js";
import type { BatchPlan, PlannedTarget } from "./batch-plan.js";
import { finishBatchRecord } from "./batch-record.js";
import { buildBatchReport, type BatchReport } from "./batch-report.js";

export interface BatchOutcomeParts {
  db: SqlClient;
  out: OutDir;
  batchId: string;
  toolVersion: string;
  selection: string;
  plan: Pick<BatchPlan, "targets" | "leftOut" | "broken" | "dependents">;
  /** The union's rows, producers first. */
  rows: ManifestStep[];
  options: { strict: boolean; diff: boolean; jobs: number; maxSteps: number | null };
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
  warnings: string[];
}

export interface BatchOutcome {
  report: BatchReport;
  manifests: Manifest[];
}

/** A shared row as one target's manifest holds it: its own copy, with paths from its folder. */
function targetRow(shared: ManifestStep, fromManifest: string): ManifestStep {
  const row = structuredClone(shared);
  const rebase = (file: string) => path.posix.join(fromManifest, file);
  if (row.payload !== null) row.payload = rebase(row.payload);
  if (row.diff !== null) {
    const { text, html, json } = row.diff.files;
    row.diff.files = {
      text: text === "" ? text : rebase(text),
      html: html === null ? null : rebase(html),
      json: json === null ? null : rebase(json),
    };
  }
  return row;
}

export async function writeBatchOutcome(parts: BatchOutcomeParts): Promise<BatchOutcome> {
  const { db, out, plan, options } = parts;
  const rowOf = new Map(parts.rows.map((r) => [r.step_id, r]));
  const manifestOptions = plainOptions(options);
  const written: { manifest: Manifest; file: string }[] = [];
  for (const target of plan.targets) {
    written.push(await writeTargetManifest(parts, target, rowOf, manifestOptions));
  }
  const report = buildBatchReport({
    batchId: parts.batchId,
    toolVersion: parts.toolVersion,
    registry: db.description,
    selection: parts.selection,
    options: { strict: options.strict, diff: options.diff, jobs: options.jobs, max_steps: options.maxSteps },
    startedAt: parts.startedAt,
    finishedAt: parts.finishedAt,
    interrupted: parts.interrupted,
    manifests: written,
    leftOut: plan.leftOut,
    broken: plan.broken,
    rows: parts.rows,
    dependents: plan.dependents,
  });
  await out.writeText("batch.json", `${JSON.stringify(report, null, 2)}\n`);
  // Every target the batch verified gets its entry, in one INSERT.
  await recordHistory(
    db,
    written.flatMap((w) => historyEntryOf(w.manifest, "batch") ?? []),
  );
  await finishBatchRecord(db, report);
  return { report, manifests: written.map((w) => w.manifest) };
}

async function writeTargetManifest(
  parts: BatchOutcomeParts,
  target: PlannedTarget,
  rowOf: ReadonlyMap<string, ManifestStep>,
  options: Manifest["options"],
): Promise<{ manifest: Manifest; file: string }> {
  const { out } = parts;
  const { chain, executed, frozen } = target.plan;
  const folder = path.posix.join("targets", safeFileName(target.artifactId));
  const rows = executed.flatMap((cs) => {
    const shared = rowOf.get(cs.step.id);
    return shared === undefined ? [] : [targetRow(shared, "../..")];
  });
  // Divergence is marked per target, on its own copy: exactly what `rerun` of it alone marks.
  const divergence = markDivergence(rows, new Map(executed.map((cs) => [cs.step.id, cs.upstreamStepIds])));
  const manifest = buildManifest({
    replayId: parts.batchId,
    toolVersion: parts.toolVersion,
    target: chain.target,
    registry: parts.db.description,
    options,
    startedAt: parts.startedAt,
    finishedAt: parts.finishedAt,
    interrupted: parts.interrupted,
    rows,
    divergence,
    frozen: frozen.values(),
    warnings: [
      ...chain.unproducedArtifacts.map(
        (a) => `artifact ${a.id} has no producing step in the registry: taken as a frozen input`,
      ),
      ...parts.warnings,
    ],
  });
  await makeFolders(path.join(out.dir, folder), {
    what: "the output folder",
    hint: "Choose a folder you can write with --out.",
  });
  const file = path.posix.join(folder, "manifest.json");
  await out.writeText(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, file };
}
