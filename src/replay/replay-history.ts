/** What a finished replay (or one target of a batch) adds to the artifact's history. */
import type { HistoryEntry } from "../history/index.js";
import type { Manifest } from "./manifest.js";

/** Null for an interrupted replay: it verified nothing. */
export function historyEntryOf(manifest: Manifest, runKind: HistoryEntry["run_kind"]): HistoryEntry | null {
  if (manifest.interrupted || manifest.status === "interrupted") return null;
  return {
    artifact_id: manifest.target.artifact_id,
    run_id: manifest.replay_id,
    run_kind: runKind,
    verified_at: manifest.finished_at,
    verdict: manifest.status === "reproduced" ? "reproduced" : "not_reproduced",
    content_hash: manifest.target.content_hash,
    tool_version: manifest.tool.version,
    images: manifest.steps.flatMap((row) =>
      row.image === null ? [] : [{ step_id: row.step_id, ref: row.image.ref, id: row.image.id }],
    ),
    origins: manifest.divergence_origins.map((o) => ({ step_id: o.step_id, reason: o.reason })),
  };
}
