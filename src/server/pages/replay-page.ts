/** GET /replays/:id — live progress while the replay runs, then its manifest as a readable table. */
import { triageSentence } from "../../diagnose/index.js";
import type { ManifestStepView, ManifestView } from "../schemas.js";
import type { ReplayView } from "../replay-store.js";
import { formatDuration, formatTime, hashCell, replayVerdict, stepVerdict } from "./format.js";
import { html, seg, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";

export interface DiffText {
  text: string;
  truncated: boolean;
}

export interface ReplayPageData {
  view: ReplayView;
  diffs: ReadonlyMap<string, DiffText>;
  tokenRequired: boolean;
}

function diffBlock(text: string): SafeHtml {
  const lines = text.split("\n").map((line) => {
    const tone = line.startsWith("@@")
      ? "hunk"
      : line.startsWith("+")
        ? "add"
        : line.startsWith("-")
          ? "del"
          : "ctx";
    // The newline is interpolated, not written in the template: formatters reflow template text.
    return html`<span class="${tone}">${line}</span>${"\n"}`;
  });
  return html`<pre class="diff">${lines}</pre>`;
}

function progressTable(view: ReplayView): SafeHtml {
  const done = new Map(view.progress.map((p) => [p.step_id, p]));
  const steps =
    view.plan.length > 0
      ? view.plan
      : view.progress.map((p) => ({ step_id: p.step_id, step_type: p.step_type, method: "" }));
  const rows = steps.map((s) => {
    const p = done.get(s.step_id);
    return html`<tr data-step="${s.step_id}">
      <td><code>${s.step_id}</code></td>
      <td>${s.step_type}</td>
      <td class="verdict">${stepVerdict(p?.status ?? "pending")}</td>
      <td class="duration">${p === undefined ? "—" : formatDuration(p.duration_ms)}</td>
    </tr>`;
  });
  return html`<table class="grid" id="progress-table">
    <thead>
      <tr>
        <th>Step</th>
        <th>Type</th>
        <th>Verdict</th>
        <th>Duration</th>
      </tr>
    </thead>
    <tbody>
      ${
        rows.length > 0
          ? rows
          : html`<tr class="placeholder">
              <td colspan="4" class="muted">Walking the provenance chain…</td>
            </tr>`
      }
    </tbody>
  </table>`;
}

function imageCell(step: ManifestStepView): SafeHtml {
  if (step.image === null) return html`<span class="muted">—</span>`;
  return html`<code title="${step.image.id}">${step.image.ref}</code>`;
}

/** "origin" or "inherited from s-a, s-b", in words under the step's id. */
function divergenceMark(step: ManifestStepView): SafeHtml {
  if (step.divergence === "origin") return html` <span class="badge bad small divergence-mark">origin</span>`;
  if (step.divergence === "inherited")
    return html`<div class="divergence-mark inherited muted small">
      inherited from ${step.inherited_from.join(", ")}
    </div>`;
  return html``;
}

function triageLine(step: ManifestStepView): SafeHtml {
  if (step.triage === null) return html``;
  return html`<p class="triage verdict-${step.triage.verdict}">
    <strong>triage</strong> ${triageSentence(step.triage, step.diff)}
  </p>`;
}

/** "Triage: 1 nondeterministic, 2 drift." under the divergence, when the replay was triaged. */
function triageSummary(m: ManifestView): SafeHtml {
  const counts = m.summary.triage;
  if (counts === undefined) return html``;
  const text =
    counts.triaged === 0
      ? "no step to triage"
      : Object.entries(counts)
          .filter(([k, n]) => k !== "triaged" && n > 0)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ");
  return html`<p class="triage-summary">${`Triage: ${text}.`}</p>`;
}

function originsOf(m: ManifestView): { step_id: string; reason: string }[] {
  return m.divergence_origins ?? (m.first_divergence === null ? [] : [m.first_divergence]);
}

function manifestTable(view: ReplayView, diffs: ReadonlyMap<string, DiffText>): SafeHtml {
  const m = view.manifest;
  if (m === null) return html``;
  const firstDivergent = m.first_divergence?.step_id;
  const rows = m.steps.map((s) => {
    const diff = diffs.get(s.step_id);
    const classes = [s.step_id === firstDivergent ? "first-divergence" : "", `status-${s.status}`]
      .filter((c) => c !== "")
      .join(" ");
    const main = html`<tr class="${classes}" data-step="${s.step_id}">
      <td>
        <code>${s.step_id}</code
        >${s.step_id === firstDivergent ? html` <span class="badge bad small">first divergence</span>` : ""}${divergenceMark(s)}
        <div class="method">${s.method}</div>
      </td>
      <td>${s.step_type}</td>
      <td>${stepVerdict(s.status)}</td>
      <td>${hashCell(s.input_hash)}</td>
      <td>${hashCell(s.output_hash_live)}</td>
      <td>${hashCell(s.output_hash_replayed)}</td>
      <td class="num">${formatDuration(s.duration_ms)}</td>
      <td>${imageCell(s)}</td>
      <td class="reason">
        ${s.reason ?? ""}${triageLine(s)}${
          s.warnings.length > 0
            ? html`<ul class="warnings">
                ${s.warnings.map((w) => html`<li>${w}</li>`)}
              </ul>`
            : ""
        }
      </td>
    </tr>`;
    if (diff === undefined) return main;
    return html`${main}
      <tr class="diff-row">
        <td colspan="9">
          <details open>
            <summary>
              What differs in ${s.target_artifact_id} (recorded →
              replayed)${diff.truncated ? " — truncated" : ""} ·
              <a href="/api/replays/${seg(view.row.id)}/diffs/${seg(s.step_id)}">raw diff</a>
            </summary>
            ${diffBlock(diff.text)}
          </details>
        </td>
      </tr>`;
  });
  return html`<table class="grid manifest" id="manifest-table">
    <thead>
      <tr>
        <th>Step</th>
        <th>Type</th>
        <th>Verdict</th>
        <th>Input hash</th>
        <th>Recorded output</th>
        <th>Replayed output</th>
        <th>Duration</th>
        <th>Image</th>
        <th>Reason</th>
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

function headline(view: ReplayView): SafeHtml {
  const m = view.manifest;
  if (m === null) {
    if (view.row.status === "queued") return html`<p class="lead">Waiting for a worker…</p>`;
    if (view.row.status === "running") return html`<p class="lead">Replaying…</p>`;
    return html``;
  }
  const s = m.summary;
  if (m.status === "reproduced")
    return html`<p class="lead ok-text">
      Every step reproduced byte for byte (${s.reproduced} of ${s.steps}).
    </p>`;
  const parts = [
    s.mismatch > 0 ? `${s.mismatch} mismatch` : "",
    s.failed > 0 ? `${s.failed} failed` : "",
    s.unreplayable > 0 ? `${s.unreplayable} unreplayable` : "",
    s.interrupted > 0 ? `${s.interrupted} interrupted` : "",
  ].filter((p) => p !== "");
  return html`<p class="lead ${m.status === "interrupted" ? "warn-text" : "bad-text"}">
    ${m.status === "interrupted" ? "Interrupted" : "Not reproduced"}: ${s.reproduced} of ${s.steps} step(s)
    reproduced${parts.length > 0 ? `; ${parts.join(", ")}` : ""}.
  </p>`;
}

export function replayPage({ view, diffs, tokenRequired }: ReplayPageData): string {
  const r = view.row;
  const live = r.status === "queued" || r.status === "running";
  const m = view.manifest;
  const options = [
    view.options.from === null ? "all steps" : `from ${view.options.from}`,
    view.options.strict ? "strict" : "",
    view.options.diff ? "diff" : "",
    view.options.triage === "off" ? "" : view.options.triage === "all" ? "triage all" : "triage",
  ]
    .filter((o) => o !== "")
    .join(", ");
  const body = html`<section class="card">
      <p class="eyebrow">Replay <code>${r.id}</code></p>
      <h1>
        Replay of <a href="/artifacts/${seg(r.target_artifact_id)}">${r.target_artifact_id}</a>
        <span id="replay-status">${replayVerdict(r.status)}</span>
      </h1>
      ${headline(view)}
      <dl class="facts">
        <dt>Options</dt>
        <dd>${options}</dd>
        <dt>Queued</dt>
        <dd>${formatTime(r.created_at)}</dd>
        <dt>Started</dt>
        <dd>${formatTime(r.started_at)}</dd>
        <dt>Finished</dt>
        <dd>${formatTime(r.finished_at)}</dd>
        ${
          m === null
            ? ""
            : html`<dt>Duration</dt>
                <dd>${formatDuration(m.duration_ms)}</dd>`
        }
        ${
          r.attempts > 1
            ? html`<dt>Attempts</dt>
                <dd>${r.attempts}</dd>`
            : ""
        }
      </dl>
      ${live ? html`<div class="actions">${tokenRequired ? html`<input type="password" id="cancel-token" autocomplete="off" placeholder="API token" />` : ""}<button type="button" id="cancel-button" class="danger">Cancel replay</button><span id="cancel-message" class="message" role="status"></span></div>` : ""}
    </section>
    ${
      view.error === null
        ? ""
        : html`<section class="card error-card">
            <h2>${r.status === "interrupted" ? "Interrupted" : "The replay could not finish"}</h2>
            <p>${view.error.message}</p>
            ${view.error.hint === null ? "" : html`<p class="hint">${view.error.hint}</p>`}
          </section>`
    }
    ${
      m?.first_divergence
        ? html`<section class="card divergence">
            <h2>First divergence: <code>${m.first_divergence.step_id}</code></h2>
            <p>${m.first_divergence.reason}</p>
            ${
              originsOf(m).length > 1
                ? html`<h3>Every origin (${originsOf(m).length})</h3>
                    <ul class="origins">
                      ${originsOf(m).map((o) => html`<li><code>${o.step_id}</code> origin: ${o.reason}</li>`)}
                    </ul>`
                : ""
            }
          </section>`
        : ""
    }
    ${m === null || m.summary.triage === undefined ? "" : html`<section class="card">${triageSummary(m)}</section>`}
    ${
      m === null
        ? html`<section class="card">
            <h2>Progress</h2>
            ${progressTable(view)}
          </section>`
        : html`<section class="card wide">
            <h2>Manifest <span class="muted small">one row per step</span></h2>
            <div class="scroll">${manifestTable(view, diffs)}</div>
            ${
              m.warnings.length > 0
                ? html`<h3>Warnings</h3>
                    <ul class="warnings">
                      ${m.warnings.map((w) => html`<li>${w}</li>`)}
                    </ul>`
                : ""
            }
          </section>`
    }`;
  return layout({
    title: `Replay ${r.id}`,
    body,
    data: { page: "replay", replay: r.id, live: String(live), "token-required": String(tokenRequired) },
  });
}
