/** The replay manifest (`<out>/manifest.json`): the contract's members plus what a reader needs. */
import type { ImageDrift, StepDiff, StepTriage, TriageCounts, TriageScope } from "../diagnose/index.js";

/**
 * 2: a row's `diff` is `{tool, explanation, files, truncated}` (1: the path of a text diff);
 * `inherited_from` lists every origin (an array); `divergence_origins`, `image_drift`, `triage`.
 */
export const MANIFEST_VERSION = 2;

/**
 * reproduced: the step ran and its output (and inputs) match the record; verified: a frozen
 * input (ingest) whose blob still hashes to the record: nothing ran, so nothing was reproduced;
 * mismatch, failed (could not run), unreplayable, interrupted.
 */
export type StepStatus = "reproduced" | "verified" | "mismatch" | "failed" | "unreplayable" | "interrupted";

export interface ManifestInput {
  name: string;
  artifact_id: string;
  content_hash: string;
  /** replayed: the upstream step's replayed bytes; recorded: the registry's blob (a frozen input). */
  origin: "replayed" | "recorded";
}

export interface ManifestStep {
  // The contract's members.
  step_id: string;
  step_type: string;
  input_hash: string | null;
  output_hash_live: string;
  output_hash_replayed: string | null;
  ok: boolean;
  reason: string | null;
  // What a reader needs besides.
  status: StepStatus;
  method: string;
  target_artifact_id: string;
  input_hash_replayed: string | null;
  inputs: ManifestInput[];
  /** "origin": inputs matched, output did not; "inherited": diverged because upstream steps did. */
  divergence: "origin" | "inherited" | null;
  /** Every origin an inherited row descends from, in topological order; empty otherwise. */
  inherited_from: string[];
  env_hash: string | null;
  environment: "pinned" | "unpinned" | "missing" | "altered" | "invalid";
  /**
   * The image the step ran in: its tag, the engine's id, the shared registry's manifest digest
   * (null without one), and whether it was found here, pulled from the registry or built.
   */
  image: { ref: string; id: string; digest: string | null; source: "local" | "pulled" | "built" } | null;
  /** Set when `image` differs from the one recorded or the one of the last reproduced replay. */
  image_drift: ImageDrift | null;
  trace_id: string | null;
  recorded_started_at: string | null;
  /** When this replay started and finished the step (wall clock), to see what ran concurrently. */
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number;
  size_live: number | null;
  size_replayed: number | null;
  /** Relative to the manifest's folder. */
  payload: string | null;
  /** With --diff, for a mismatch: what differs (src/diagnose/step-diff.ts). */
  diff: StepDiff | null;
  /** With --triage: why it did not reproduce (src/diagnose/). */
  triage: StepTriage | null;
  warnings: string[];
}

export interface FrozenInput {
  artifact_id: string;
  content_hash: string;
  why: string;
}

export interface ReplaySummary {
  steps: number;
  /** Steps that ran and matched. */
  reproduced: number;
  /** Frozen inputs (ingest) whose blobs still hash to the record; `ok` like reproduced steps. */
  verified: number;
  mismatch: number;
  failed: number;
  unreplayable: number;
  interrupted: number;
  /** With --triage: how many steps got each verdict. */
  triage?: TriageCounts;
}

export interface Manifest {
  manifest_version: number;
  replay_id: string;
  tool: { name: "replay-runner"; version: string };
  target: { artifact_id: string; content_hash: string; artifact_type: string; title: string | null };
  registry: string;
  options: {
    from: string | null;
    strict: boolean;
    diff: boolean;
    jobs: number;
    triage: TriageScope;
    /** Repeats per triaged step (with triage). */
    repeat: number;
  };
  started_at: string;
  finished_at: string;
  duration_ms: number;
  /** reproduced: every step ok; not_reproduced: some step was not; interrupted: SIGINT/SIGTERM/cancel. */
  status: "reproduced" | "not_reproduced" | "interrupted";
  interrupted: boolean;
  summary: ReplaySummary;
  /** The first of divergence_origins. */
  first_divergence: { step_id: string; reason: string } | null;
  /** Every step where the bytes diverged on their own, in topological order. */
  divergence_origins: { step_id: string; reason: string }[];
  frozen_inputs: FrozenInput[];
  warnings: string[];
  steps: ManifestStep[];
}

export function summarise(steps: readonly ManifestStep[]): ReplaySummary {
  const count = (s: StepStatus) => steps.filter((row) => row.status === s).length;
  return {
    steps: steps.length,
    reproduced: count("reproduced"),
    verified: count("verified"),
    mismatch: count("mismatch"),
    failed: count("failed"),
    unreplayable: count("unreplayable"),
    interrupted: count("interrupted"),
  };
}
