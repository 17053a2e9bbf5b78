/** What `rerun --triage` writes into a manifest row (`triage`) and the summary (`summary.triage`). */

/** Which steps triage examines: none, every origin mismatch, or also the steps that reproduced. */
export type TriageScope = "off" | "origins" | "all";

/** What must not matter to a deterministic step, changed one at a time (docs/decisions.md). */
export type VariationName =
  "clock" | "cpus" | "order" | "hash-seed" | "timezone" | "umask" | "hostname" | "kernel";

export type TriageVerdict =
  /** Replays under identical conditions disagree with each other. */
  | "nondeterministic"
  /** They agree, but the output changes under the variations named in `sensitive_to`. */
  | "environment-sensitive"
  /** Every replay gives the same bytes under every variation, and they are not the recorded ones. */
  | "drift"
  /** A reproduced step (--triage=all) whose every replay gave the recorded bytes. */
  | "deterministic"
  /** Too few runs succeeded to say (each failed run says why). */
  | "inconclusive";

export interface TriageRun {
  /** "replay": the main replay itself; "repeat": identical conditions; else the one thing changed. */
  variation: "replay" | "repeat" | VariationName;
  /** What the run changed, in words ("clock +213 days", "1 CPU of 2", ...). */
  detail: string;
  output_hash: string | null;
  /** Why the run gave no output (it failed); absent when it ran. */
  error?: string;
}

export interface TriageSkip {
  variation: VariationName;
  why: string;
}

export interface StepTriage {
  verdict: TriageVerdict;
  /** The step reproduced (triaged with --triage=all): what triage found is latent. */
  latent: boolean;
  runs: TriageRun[];
  sensitive_to: VariationName[];
  /** Variations that could not be applied here, and why. */
  not_applied: TriageSkip[];
  /** The clock every repeat and variation ran under: frozen at an instant, or the real one. */
  clock: string;
  /** The verdict's reason, in words (no diff: triageSentence adds the row's diff.explanation). */
  explanation: string;
}

export interface TriageCounts {
  triaged: number;
  nondeterministic: number;
  "environment-sensitive": number;
  drift: number;
  deterministic: number;
  inconclusive: number;
}
