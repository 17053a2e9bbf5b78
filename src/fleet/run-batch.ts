/**
 * A batch: select the targets, plan the union of their chains, replay every distinct step once
 * through the scheduler `rerun` uses (src/replay/step-scheduler.ts), then cut each target's own
 * manifest out of the shared rows and write `<out>/batch.json`.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { SqlClient } from "../db/index.js";
import { diagnoseReplay, type PayloadDiffer } from "../diagnose/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import { makeFolders } from "../fs/index.js";
import { handlerFor } from "../handlers/index.js";
import { recordHistory } from "../history/index.js";
import type { ImageResolver } from "../images/types.js";
import {
  OutDir,
  VerifiedBlobs,
  buildManifest,
  historyEntryOf,
  interruptOrphanedReplays,
  localJudge,
  markDivergence,
  plainOptions,
  replaySteps,
  safeFileName,
  type Manifest,
  type ManifestStep,
  type ReplayReporter,
} from "../replay/index.js";
import type { StepExecutor } from "../runner/types.js";
import { planBatch, type BatchPlan, type PlannedTarget } from "./batch-plan.js";
import { buildBatchReport, type BatchReport } from "./batch-report.js";
import {
  failBatchRecord,
  finishBatchRecord,
  interruptOrphanedBatches,
  startBatchRecord,
  type BatchTrigger,
} from "./batch-record.js";
import { integrityProblemsOf } from "./batch-integrity.js";
import { describeSelection, selectTargets, type TargetSelection } from "./target-selection.js";

export interface BatchDeps {
  db: SqlClient;
  blobRoot: string;
  executor: StepExecutor;
  images: ImageResolver;
  toolVersion: string;
  reporter?: BatchReporter | undefined;
  differ?: PayloadDiffer | undefined;
  /** Checks the engine; awaited before anything runs when some step needs a container. */
  preflight?: (() => Promise<void>) | undefined;
}

/** Progress of a batch: the plan, then the scheduler's step events (as `rerun` reports them). */
export interface BatchReporter extends Omit<ReplayReporter, "planned" | "finished" | "triaging"> {
  batchPlanned?(info: { batchId: string; outDir: string; plan: BatchPlan }): void;
}

export interface BatchOptions {
  selection: TargetSelection;
  maxSteps?: number | undefined;
  outDir: string;
  strict?: boolean | undefined;
  diff?: boolean | undefined;
  jobs?: number | undefined;
  batchId?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Who started it (the /verifications page says): `verify`, or serve's --verify-every. */
  trigger?: BatchTrigger | undefined;
}

export interface BatchResult {
  report: BatchReport;
  manifests: Manifest[];
}

export function newBatchId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  return `v-${stamp}-${randomBytes(3).toString("hex")}`;
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

export async function runBatch(deps: BatchDeps, options: BatchOptions): Promise<BatchResult> {
  const startedAt = new Date();
  const batchId = options.batchId ?? newBatchId(startedAt);
  const jobs = options.jobs ?? os.availableParallelism();
  const signal = options.signal ?? new AbortController().signal;
  const reporter = deps.reporter ?? {};
  const blobs = new VerifiedBlobs(deps.blobRoot);
  const strict = options.strict === true;
  const diff = options.diff === true;

  const preflight = deps.preflight?.();
  preflight?.catch(() => undefined);
  await blobs.checkRoot();
  const ids = await selectTargets(deps.db, options.selection);
  const plan: BatchPlan = await planBatch(deps.db, ids, options.maxSteps);

  if (strict) {
    const problems = await integrityProblemsOf(plan, blobs);
    if (problems.length > 0) {
      throw new ReplayError(
        "INTEGRITY",
        `--strict: ${problems.length} frozen input(s) cannot be trusted; nothing was run.\n  ${problems.join("\n  ")}`,
        {
          hint: "Restore the blobs from a backup, or run without --strict to verify what still can be.",
          details: { problems },
        },
      );
    }
  }
  if (plan.steps.some((cs) => handlerFor(cs.step.stepType)?.mode === "container")) {
    await preflight;
    await deps.executor.ready?.();
  }

  // Batches (and replays) whose process is gone are marked interrupted, as a replay does.
  await interruptOrphanedReplays(deps.db, localJudge(deps.db));
  await interruptOrphanedBatches(deps.db, localJudge(deps.db));
  const out = await OutDir.acquire(options.outDir, batchId);
  let record: AsyncDisposable | undefined;
  try {
    record = await startBatchRecord(deps.db, {
      id: batchId,
      trigger: options.trigger ?? "command",
      selection: describeSelection(options.selection, options.maxSteps),
      outDir: out.dir,
    });
    reporter.batchPlanned?.({ batchId, outDir: out.dir, plan });
    const globalWarnings: string[] = [];
    const { rows, consumed } = await replaySteps(
      {
        blobs,
        executor: deps.executor,
        images: deps.images,
        runId: batchId,
        signal,
        jobs,
        out,
        reporter,
        diff,
        differ: deps.differ,
      },
      plan.steps,
      () => true,
    );
    for (const problem of (await deps.executor.settled?.()) ?? []) {
      globalWarnings.push(`clean-up: ${problem}`);
      reporter.warning?.(`clean-up: ${problem}`);
    }
    await diagnoseReplay(
      {
        db: deps.db,
        blobs,
        executor: deps.executor,
        replayId: batchId,
        signal,
        jobs,
        scratchParent: out.dir,
        startedAt,
        warn: (m) => {
          globalWarnings.push(m);
          reporter.warning?.(m);
        },
      },
      { rows, steps: plan.steps, consumed, triage: "off", repeat: 2 },
    );
    const finishedAt = new Date();
    const rowOf = new Map(rows.map((r) => [r.step_id, r]));
    const written: { manifest: Manifest; file: string }[] = [];
    for (const target of plan.targets) {
      written.push(
        await writeTargetManifest(out, target, rowOf, {
          batchId,
          deps,
          options: plainOptions({ strict, diff, jobs }),
          startedAt,
          finishedAt,
          interrupted: signal.aborted,
          warnings: globalWarnings,
        }),
      );
    }
    const report = buildBatchReport({
      batchId,
      toolVersion: deps.toolVersion,
      registry: deps.db.description,
      selection: describeSelection(options.selection, options.maxSteps),
      options: { strict, diff, jobs, max_steps: options.maxSteps ?? null },
      startedAt,
      finishedAt,
      interrupted: signal.aborted,
      manifests: written,
      leftOut: plan.leftOut,
      broken: plan.broken,
      rows,
      dependents: plan.dependents,
    });
    await out.writeText("batch.json", `${JSON.stringify(report, null, 2)}\n`);
    // Every target the batch verified gets its entry, in one INSERT.
    await recordHistory(
      deps.db,
      written.flatMap((w) => historyEntryOf(w.manifest, "batch") ?? []),
    );
    await finishBatchRecord(deps.db, report);
    return { report, manifests: written.map((w) => w.manifest) };
  } catch (error) {
    // The row says why; the error still goes to the caller (exit code, the server's log).
    if (record !== undefined)
      await failBatchRecord(deps.db, batchId, messageOf(error)).catch(() => undefined);
    throw error;
  } finally {
    await record?.[Symbol.asyncDispose](); // its heartbeat
    await out.release();
  }
}

async function writeTargetManifest(
  out: OutDir,
  target: PlannedTarget,
  rowOf: ReadonlyMap<string, ManifestStep>,
  context: {
    batchId: string;
    deps: BatchDeps;
    options: Manifest["options"];
    startedAt: Date;
    finishedAt: Date;
    interrupted: boolean;
    warnings: string[];
  },
): Promise<{ manifest: Manifest; file: string }> {
  const { chain, executed, frozen } = target.plan;
  const folder = path.posix.join("targets", safeFileName(target.artifactId));
  const rows = executed.flatMap((cs) => {
    const shared = rowOf.get(cs.step.id);
    return shared === undefined ? [] : [targetRow(shared, "../..")];
  });
  // Divergence is marked per target, on its own copy: exactly what `rerun` of it alone marks.
  const divergence = markDivergence(rows, new Map(executed.map((cs) => [cs.step.id, cs.upstreamStepIds])));
  const manifest = buildManifest({
    replayId: context.batchId,
    toolVersion: context.deps.toolVersion,
    target: chain.target,
    registry: context.deps.db.description,
    options: context.options,
    startedAt: context.startedAt,
    finishedAt: context.finishedAt,
    interrupted: context.interrupted,
    rows,
    divergence,
    frozen: frozen.values(),
    warnings: [
      ...chain.unproducedArtifacts.map(
        (a) => `artifact ${a.id} has no producing step in the registry: taken as a frozen input`,
      ),
      ...context.warnings,
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
