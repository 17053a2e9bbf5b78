/**
 * What a replay runs once its rows are final: image drift for every row, then (with --triage)
 * a triage of every origin mismatch, or with --triage=all of every container step that
 * reproduced too. Inherited mismatches are never triaged: their inputs are not the recorded ones.
 * Triage is loaded only when asked for; without it this costs one SELECT and one upsert.
 */
import type { BlobStore } from "../blobs/index.js";
import type { ChainStep } from "../chain/types.js";
import type { SqlQueryable } from "../db/index.js";
import type { ReplayInput } from "../handlers/index.js";
import type { StepExecutor } from "../runner/types.js";
import { messageOf } from "../errors/index.js";
import { markImageDrift, recordedImageOf, type DriftRow, type ImageHistory } from "./image-drift.js";
import type { StepTriage, TriageCounts, TriageScope } from "./triage-types.js";

/** The members of a manifest row diagnosis reads and writes. */
export interface DiagnosedRow extends DriftRow {
  status: string;
  divergence: "origin" | "inherited" | null;
  output_hash_live: string;
  output_hash_replayed: string | null;
  input_hash: string | null;
  input_hash_replayed: string | null;
  duration_ms: number;
  triage: StepTriage | null;
}

export interface DiagnoseDeps {
  db: SqlQueryable;
  blobs: BlobStore;
  executor: StepExecutor;
  replayId: string;
  signal: AbortSignal;
  jobs: number;
  /** Where triage runs write their outputs (removed as they are hashed). */
  scratchParent: string;
  /** When the replay started: the frozen instant of a step that never had SOURCE_DATE_EPOCH. */
  startedAt: Date;
  warn: (message: string) => void;
  /** A step's triage begins (the terminal says so: it takes several container runs). */
  triaging?: ((stepId: string) => void) | undefined;
}

export interface DiagnoseInput<R extends DiagnosedRow> {
  rows: R[];
  steps: readonly ChainStep[];
  /** The inputs each step consumed in the main replay. */
  consumed: ReadonlyMap<string, readonly ReplayInput[]>;
  triage: TriageScope;
  repeat: number;
}

function triageWanted(row: DiagnosedRow, scope: TriageScope): boolean {
  if (row.image === null || row.output_hash_replayed === null) return false; // not a container run
  if (row.status === "mismatch") return row.divergence === "origin";
  return scope === "all" && row.status === "reproduced";
}

export function countVerdicts(rows: readonly { triage: StepTriage | null }[]): TriageCounts {
  const counts: TriageCounts = {
    triaged: 0,
    nondeterministic: 0,
    "environment-sensitive": 0,
    drift: 0,
    deterministic: 0,
    inconclusive: 0,
  };
  for (const row of rows) {
    if (row.triage === null) continue;
    counts.triaged++;
    counts[row.triage.verdict]++;
  }
  return counts;
}

/** Returns the verdict counts when triage ran, else undefined. */
export async function diagnoseReplay<R extends DiagnosedRow>(
  deps: DiagnoseDeps,
  input: DiagnoseInput<R>,
): Promise<TriageCounts | undefined> {
  const byId = new Map(input.steps.map((cs) => [cs.step.id, cs]));
  // Drift is a warning: a registry that fails here must not cost the replay its manifest.
  const history = await markImageDrift(deps.db, deps.replayId, input.rows, (id) => {
    const target = byId.get(id)?.target;
    return target === undefined ? null : recordedImageOf(target.metadata);
  }).catch((error: unknown) => {
    deps.warn(`image drift could not be checked: ${messageOf(error)}`);
    return new Map<string, ImageHistory>();
  });
  if (input.triage === "off") return undefined;
  const { triageStep } = await import("./triage-step.js");
  for (const row of input.rows) {
    if (deps.signal.aborted) break;
    const chainStep = byId.get(row.step_id);
    const inputs = input.consumed.get(row.step_id);
    if (!triageWanted(row, input.triage) || chainStep === undefined || inputs === undefined) continue;
    if (row.image === null || row.output_hash_replayed === null) continue;
    deps.triaging?.(row.step_id);
    const result = await triageStep(
      {
        blobs: deps.blobs,
        executor: deps.executor,
        runId: deps.replayId,
        signal: deps.signal,
        jobs: deps.jobs,
        scratchParent: deps.scratchParent,
      },
      {
        chainStep,
        inputs,
        image: row.image,
        recorded: row.output_hash_live,
        replayed: row.output_hash_replayed,
        inputHash: row.input_hash,
        inputHashReplayed: row.input_hash_replayed,
        durationMs: row.duration_ms,
        latent: row.status === "reproduced",
        fallbackEpoch: Math.trunc(deps.startedAt.getTime() / 1000),
        history: history.get(row.step_id) ?? { recordedImage: null, lastReproduced: null },
      },
      { repeat: input.repeat },
    );
    if (result !== undefined) row.triage = result;
  }
  if (deps.signal.aborted) deps.warn("triage was interrupted: the steps it had not finished have no verdict");
  return countVerdicts(input.rows);
}
