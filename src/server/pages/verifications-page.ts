/** GET /verifications — every batch (verify, serve --verify-every), and what stopped reproducing. */
import type { BatchRow } from "../../fleet/index.js";
import type { StoppedReproducing } from "../../history/index.js";
import { formatTime } from "./format.js";
import { html, seg } from "./html.js";
import { layout } from "./layout.js";

function outcome(b: BatchRow): string {
  if (b.status === "failed") return b.error ?? "failed";
  if (b.summary === null) return "";
  const left = b.summary.left_out > 0 ? `, ${b.summary.left_out} left out` : "";
  const broken = b.summary.unreplayable > 0 ? `, ${b.summary.unreplayable} unreplayable` : "";
  return `${b.summary.reproduced} of ${b.summary.targets} target(s) reproduced, ${b.summary.steps} step(s)${broken}${left}`;
}

function verdictBadge(b: BatchRow) {
  if (b.verdict === "reproduced") return html`<span class="badge ok">reproduced</span>`;
  if (b.verdict === "not_reproduced") return html`<span class="badge bad">not reproduced</span>`;
  return html`<span class="badge muted">${b.status}</span>`;
}

export function verificationsPage(
  batches: readonly BatchRow[],
  stopped: readonly StoppedReproducing[],
): string {
  const body = html`<section class="card">
      <h1>Verifications</h1>
      <h2>Stopped reproducing</h2>
      ${
        stopped.length === 0
          ? html`<p class="muted" id="stopped-empty">No artifact stopped reproducing.</p>`
          : html`<ul id="stopped">
              ${stopped.map(
                (s) =>
                  html`<li data-artifact="${s.artifact_id}">
                    <a href="/artifacts/${seg(s.artifact_id)}">${s.artifact_id}</a>
                    <span class="muted"
                      >not reproduced by <code>${s.run_id}</code> on ${formatTime(new Date(s.verified_at))};
                      it reproduced in <code>${s.last_reproduced_run_id}</code></span
                    >
                  </li>`,
              )}
            </ul>`
      }
    </section>
    <section class="card">
      <h2>Batches</h2>
      ${
        batches.length === 0
          ? html`<p class="muted">
              No batch yet: <code>replay-runner verify --all</code>, or serve --verify-every.
            </p>`
          : html`<table class="grid" id="batches">
              <thead>
                <tr>
                  <th>Batch</th>
                  <th>Started</th>
                  <th>By</th>
                  <th>Selection</th>
                  <th>Verdict</th>
                  <th>Outcome</th>
                </tr>
              </thead>
              <tbody>
                ${batches.map(
                  (b) =>
                    html`<tr data-batch="${b.id}">
                      <td><code>${b.id}</code></td>
                      <td>${formatTime(new Date(b.started_at))}</td>
                      <td>${b.trigger === "schedule" ? "schedule" : "verify"}</td>
                      <td class="selection">${b.selection}</td>
                      <td>${verdictBadge(b)}</td>
                      <td class="reason">${outcome(b)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>`;
  return layout({ title: "Verifications", body, data: { page: "verifications" } });
}
