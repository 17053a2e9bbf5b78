/** GET / — where to start: open an artifact by id, or one of the latest replays. */
import type { ReplayView } from "../replay-store.js";
import { formatTime, replayVerdict } from "./format.js";
import { html, seg } from "./html.js";
import { layout } from "./layout.js";

export function indexPage(recent: readonly ReplayView[]): string {
  const body = html`<section class="card">
      <h1>Reproduce an artifact</h1>
      <form class="open" method="get" action="/go">
        <label for="artifact-id">Artifact id</label>
        <input id="artifact-id" name="artifact" required placeholder="e.g. art-3f9c2a1b7d04" />
        <button type="submit" class="primary">Open</button>
      </form>
    </section>
    <section class="card">
      <h2>Latest replays</h2>
      ${
        recent.length === 0
          ? html`<p class="muted">No replay yet.</p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Replay</th>
                  <th>Artifact</th>
                  <th>Queued</th>
                  <th>Verdict</th>
                </tr>
              </thead>
              <tbody>
                ${recent.map(
                  (r) =>
                    html`<tr>
                      <td>
                        <a href="/replays/${seg(r.row.id)}"><code>${r.row.id}</code></a>
                      </td>
                      <td>
                        <a href="/artifacts/${seg(r.row.target_artifact_id)}">${r.row.target_artifact_id}</a>
                      </td>
                      <td>${formatTime(r.row.created_at)}</td>
                      <td>${replayVerdict(r.row.status, r.row.verdict)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>`;
  return layout({ title: "Start", body, data: { page: "index" } });
}
