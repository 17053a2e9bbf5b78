/**
 * `<out>/batch.json`: the targets with their verdicts, every step with how many targets depend
 * on it, and each divergence origin once, with the targets it reaches.
 */
import type { Manifest, ManifestStep, StepStatus } from "../replay/index.js";
import type { BrokenTarget, LeftOutTarget } from "./batch-plan.js";

export const BATCH_VERSION = 1;

export type BatchStatus = "reproduced" | "not_reproduced" | "interrupted";

export interface BatchTarget {
  artifact_id: string;
  status: Manifest["status"];
  /** Relative to batch.json's folder. */
  manifest: string;
  steps: number;
  divergence_origins: string[];
}

export interface BatchStep {
  step_id: string;
  step_type: string;
  status: StepStatus;
  ok: boolean;
  /** How many of the batch's targets have this step in their chain. */
  targets: number;
}

export interface BatchOrigin {
  step_id: string;
  reason: string;
  /** Every target whose manifest names this step among its divergence origins. */
  targets: string[];
}

export interface BatchReport {
  batch_version: number;
  batch_id: string;
  tool: { name: "replay-runner"; version: string };
  registry: string;
  selection: string;
  options: { strict: boolean; diff: boolean; jobs: number; max_steps: number | null };
  started_at: string;
  finished_at: string;
  duration_ms: number;
  /** reproduced: every selected target reproduced (none left out); interrupted: a signal. */
  status: BatchStatus;
  summary: {
    targets: number;
    reproduced: number;
    not_reproduced: number;
    left_out: number;
    /** Selected targets whose rows do not form a replayable chain (not in `targets`). */
    unreplayable: number;
    steps: number;
  };
  targets: BatchTarget[];
  left_out: { artifact_id: string; steps: number }[];
  /** Each such target with what is wrong with its rows; nothing of its chain was replayed for it. */
  unreplayable: { artifact_id: string; reason: string }[];
  steps: BatchStep[];
  divergence_origins: BatchOrigin[];
}

export interface BatchReportParts {
  batchId: string;
  toolVersion: string;
  registry: string;
  selection: string;
  options: BatchReport["options"];
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
  /** Each target's manifest and where it was written (relative). */
  manifests: { manifest: Manifest; file: string }[];
  leftOut: LeftOutTarget[];
  broken: BrokenTarget[];
  /** The union's rows, producers first. */
  rows: ManifestStep[];
  dependents: ReadonlyMap<string, number>;
}

export function buildBatchReport(parts: BatchReportParts): BatchReport {
  const targets = parts.manifests.map(({ manifest, file }): BatchTarget => ({
    artifact_id: manifest.target.artifact_id,
    status: manifest.status,
    manifest: file,
    steps: manifest.steps.length,
    divergence_origins: manifest.divergence_origins.map((o) => o.step_id),
  }));
  const origins = new Map<string, BatchOrigin>();
  for (const { manifest } of parts.manifests) {
    for (const origin of manifest.divergence_origins) {
      const entry = origins.get(origin.step_id) ?? { ...origin, targets: [] };
      entry.targets.push(manifest.target.artifact_id);
      origins.set(origin.step_id, entry);
    }
  }
  const position = new Map(parts.rows.map((r, i) => [r.step_id, i]));
  const reproduced = targets.filter((t) => t.status === "reproduced").length;
  const status: BatchStatus = parts.interrupted
    ? "interrupted"
    : reproduced === targets.length && parts.leftOut.length === 0 && parts.broken.length === 0
      ? "reproduced"
      : "not_reproduced";
  return {
    batch_version: BATCH_VERSION,
    batch_id: parts.batchId,
    tool: { name: "replay-runner", version: parts.toolVersion },
    registry: parts.registry,
    selection: parts.selection,
    options: parts.options,
    started_at: parts.startedAt.toISOString(),
    finished_at: parts.finishedAt.toISOString(),
    duration_ms: parts.finishedAt.getTime() - parts.startedAt.getTime(),
    status,
    summary: {
      targets: targets.length,
      reproduced,
      not_reproduced: targets.length - reproduced,
      left_out: parts.leftOut.length,
      unreplayable: parts.broken.length,
      steps: parts.rows.length,
    },
    targets,
    left_out: parts.leftOut.map((t) => ({ artifact_id: t.artifactId, steps: t.steps })),
    unreplayable: parts.broken.map((t) => ({ artifact_id: t.artifactId, reason: t.reason })),
    steps: parts.rows.map((r) => ({
      step_id: r.step_id,
      step_type: r.step_type,
      status: r.status,
      ok: r.ok,
      targets: parts.dependents.get(r.step_id) ?? 0,
    })),
    divergence_origins: [...origins.values()].sort(
      (a, b) => (position.get(a.step_id) ?? 0) - (position.get(b.step_id) ?? 0),
    ),
  };
}

/** 0 only when every selected target reproduced; 1 otherwise (interruptions are the caller's). */
export function batchExitCode(report: BatchReport): number {
  return report.status === "reproduced" ? 0 : 1;
}
