/** One verification of one artifact, as replay-runner's history keeps it. */
export type HistoryVerdict = "reproduced" | "not_reproduced";

export interface HistoryImage {
  step_id: string;
  ref: string;
  id: string;
}

export interface HistoryOrigin {
  step_id: string;
  reason: string;
}

export interface HistoryEntry {
  artifact_id: string;
  /** The replay's id (`rerun`, served replays) or the batch's (`verify`). */
  run_id: string;
  run_kind: "replay" | "batch";
  verified_at: string;
  verdict: HistoryVerdict;
  /** The artifact's content_hash when it was verified. */
  content_hash: string;
  tool_version: string;
  images: HistoryImage[];
  origins: HistoryOrigin[];
}
