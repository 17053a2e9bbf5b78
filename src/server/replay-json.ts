/** The API's JSON form of a served replay (GET /api/replays/:id and the artifact's replay list). */
import { isTerminal, type ReplayView } from "./replay-store.js";

export function replayJson(view: ReplayView, options: { full: boolean }): Record<string, unknown> {
  const r = view.row;
  const brief = {
    replay_id: r.id,
    artifact_id: r.target_artifact_id,
    // The replay's life: queued | running | finished | interrupted | failed (it could not run).
    status: r.status,
    // Once finished: reproduced | not_reproduced; null otherwise.
    verdict: r.verdict,
    options: view.options,
    created_at: r.created_at.toISOString(),
    started_at: r.started_at?.toISOString() ?? null,
    finished_at: r.finished_at?.toISOString() ?? null,
    summary: view.manifest?.summary ?? null,
    error: view.error,
    status_url: `/api/replays/${encodeURIComponent(r.id)}`,
    page_url: `/replays/${encodeURIComponent(r.id)}`,
  };
  if (!options.full) return brief;
  const finished = isTerminal(r.status);
  return {
    ...brief,
    attempts: r.attempts,
    cancel_requested: r.cancel_requested_at !== null,
    plan: view.plan,
    progress: view.progress,
    // The manifest exactly as runReplay wrote it, once the replay is over.
    manifest: finished ? (r.manifest ?? null) : null,
  };
}
