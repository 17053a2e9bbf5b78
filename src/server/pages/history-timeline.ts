/** The artifact page's timeline: each verification in words, newest first, escaped like all pages. */
import { timelineSentence, type HistoryEntry } from "../../history/index.js";
import { formatTime } from "./format.js";
import { html, seg, type SafeHtml } from "./html.js";

function runLink(entry: HistoryEntry): SafeHtml {
  // Served and CLI replays have a page; a batch's results are in its output folder.
  return entry.run_kind === "replay"
    ? html`<a href="/replays/${seg(entry.run_id)}"><code>${entry.run_id}</code></a>`
    : html`batch <code>${entry.run_id}</code>`;
}

export function historyTimeline(history: readonly HistoryEntry[]): SafeHtml {
  if (history.length === 0) return html`<p class="muted" id="history-empty">Never verified.</p>`;
  return html`<ol class="timeline" id="history-timeline">
    ${history.map(
      (e) =>
        html`<li class="${e.verdict === "reproduced" ? "ok" : "bad"}" data-verdict="${e.verdict}">
          <span class="badge ${e.verdict === "reproduced" ? "ok" : "bad"}"
            >${e.verdict === "reproduced" ? "reproduced" : "not reproduced"}</span
          >
          <span class="sentence">${timelineSentence(e)}</span>
          <span class="muted small"
            >${formatTime(new Date(e.verified_at))} · ${runLink(e)} · replay-runner ${e.tool_version}</span
          >
        </li>`,
    )}
  </ol>`;
}
