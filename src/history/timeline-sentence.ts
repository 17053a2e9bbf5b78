/**
 * A history entry in words, for the terminal and the artifact page: "reproduced on 2026-12-01
 * with replay-env:…", "not reproduced on 2026-12-08: step-… diverged". Plain text: callers
 * escape it for where it goes (ids and image refs are registry data).
 */
import type { HistoryEntry } from "./history-entry.js";

export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

export function timelineSentence(entry: HistoryEntry): string {
  const day = dayOf(entry.verified_at);
  const refs = [...new Set(entry.images.map((i) => i.ref))];
  const images = refs.length === 0 ? "" : ` with ${refs.join(", ")}`;
  if (entry.verdict === "reproduced") return `reproduced on ${day}${images}`;
  const origins = entry.origins.map((o) => o.step_id);
  const where =
    origins.length === 0 ? ": a step failed or could not be replayed" : `: ${origins.join(", ")} diverged`;
  return `not reproduced on ${day}${where}`;
}
