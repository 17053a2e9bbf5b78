/** GET /replays/:id — live progress while the replay runs, then its manifest as a readable table. */
import { triageSentence } from "../../diagnose/index.js";
import type { AttestationSummary } from "../../evidence/index.js";
import type { ManifestStepView, ManifestView, StepDiffView } from "../schemas.js";
import type { ReplayView } from "../replay-store.js";
import {
  formatDuration,
  formatTime,
  hashCell,
  replayVerdict,
  stepVerdict,
  textWithHashes,
} from "./format.js";
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
  /** The replay's attestation.intoto.json, when it was signed. */
  attestation?: AttestationSummary | null | undefined;
}

function signatureFacts(view: ReplayView, attestation: AttestationSummary | null | undefined): SafeHtml {
  if (view.manifest === null) return html``;
  if (attestation == null)
    return html`<dt>Signed</dt>
      <dd id="signature">no: this replay has no attestation</dd>`;
  const keys = attestation.keyIds.length > 0 ? attestation.keyIds.join(", ") : "none named";
  return html`<dt>Signed</dt>
    <dd id="signature">
      ${attestation.matchesManifest ? "yes" : "an attestation is there, but not of this manifest"}, by key id
      <code>${keys}</code> ·
      <a href="/api/replays/${seg(view.row.id)}/attestation" download>attestation.intoto.json</a>
    </dd>`;
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

/**
 * A mismatch's explanation, then diffoscope's HTML report in a sandboxed frame (served from its
 * own route under its own policy: no script in it runs, it cannot reach this page's origin), or
 * the built-in diff's text.
 */
function diffDetails(
  replayId: string,
  step: ManifestStepView,
  diff: StepDiffView,
  text: DiffText | undefined,
): SafeHtml {
  const base = `/api/replays/${seg(replayId)}/diffs/${seg(step.step_id)}`;
  const links = [
    html`<a href="${base}">text</a>`,
    diff.files.json === null ? "" : html` · <a href="${base}/json">JSON</a>`,
    diff.files.html === null
      ? ""
      : html` · <a href="${base}/html" target="_blank" rel="noopener noreferrer">HTML</a>`,
  ];
  const body =
    diff.files.html !== null
      ? html`<iframe
          class="diff-report"
          sandbox
          referrerpolicy="no-referrer"
          loading="lazy"
          title="${diff.tool} report for ${step.step_id}"
          src="${base}/html"
        ></iframe>`
      : text === undefined
        ? html`<p class="muted">The diff file is no longer there.</p>`
        : diffBlock(text.text);
  return html`<details open>
    <summary>
      What differs in ${step.target_artifact_id} (recorded → replayed):
      <strong class="diff-explanation">${diff.explanation}</strong>
      <span class="muted small"
        >${diff.tool}${diff.truncated || text?.truncated === true ? " — cut at its size limit" : ""} ·
        ${links}</span
      >
    </summary>
    ${body}
  </details>`;
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
  const { ref, id, digest, source } = step.image;
  // Where the image came from (local, pulled, built) and the shared registry's digest.
  const tag = html`<code title="${id}">${ref}</code>`;
  const from = source === null ? "" : html` <span class="muted image-source">${source}</span>`;
  const short = digest?.slice(0, 19);
  const pinned =
    digest === null ? "" : html`<div class="image-digest"><code title="${digest}">${short}…</code></div>`;
  return html`${tag}${from}${pinned}`;
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
    const artifact = seg(s.target_artifact_id);
    const replayed =
      s.output_hash_replayed !== null && typeof (s as { payload?: unknown }).payload === "string"
        ? html` <a
            class="download"
            href="/replays/${seg(view.row.id)}/steps/${seg(s.step_id)}/payload"
            download
            >download</a
          >`
        : "";
    const main = html`<tr class="${classes}" data-step="${s.step_id}">
      <td>
        <code>${s.step_id}</code
        >${s.step_id === firstDivergent ? html` <span class="badge bad small">first divergence</span>` : ""}${divergenceMark(s)}
        <div class="method">${s.method}</div>
        ${
          s.target_artifact_id === ""
            ? ""
            : html`<div class="target">
                → <a class="artifact-link" href="/artifacts/${artifact}">${s.target_artifact_id}</a>
              </div>`
        }
      </td>
      <td>${s.step_type}</td>
      <td>${stepVerdict(s.status)}</td>
      <td>${hashCell(s.input_hash)}</td>
      <td>
        ${hashCell(s.output_hash_live)}${
          s.target_artifact_id === ""
            ? ""
            : html` <a class="download" href="/artifacts/${artifact}/payload" download>download</a>`
        }
      </td>
      <td>${hashCell(s.output_hash_replayed)}${replayed}</td>
      <td class="num">${formatDuration(s.duration_ms)}</td>
      <td>${imageCell(s)}</td>
      <td class="reason">
        <span class="reason-text">${textWithHashes(s.reason)}</span>${triageLine(s)}${
          s.warnings.length > 0
            ? html`<ul class="warnings">
                ${s.warnings.map((w) => html`<li>${textWithHashes(w)}</li>`)}
              </ul>`
            : ""
        }
      </td>
    </tr>`;
    if (s.diff === null) return main;
    return html`${main}
      <tr class="diff-row">
        <td colspan="9">${diffDetails(view.row.id, s, s.diff, diff)}</td>
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
  // Frozen inputs (ingest) are verified, not reproduced: nothing ran for them.
  const verified = s.verified > 0 ? `, ${s.verified} frozen input(s) verified` : "";
  if (m.status === "reproduced")
    return html`<p class="lead ok-text">
      Every step reproduced byte for byte (${s.reproduced} reproduced${verified}, of ${s.steps}).
    </p>`;
  const parts = [
    s.mismatch > 0 ? `${s.mismatch} mismatch` : "",
    s.failed > 0 ? `${s.failed} failed` : "",
    s.unreplayable > 0 ? `${s.unreplayable} unreplayable` : "",
    s.interrupted > 0 ? `${s.interrupted} interrupted` : "",
  ].filter((p) => p !== "");
  return html`<p class="lead ${m.status === "interrupted" ? "warn-text" : "bad-text"}">
    ${m.status === "interrupted" ? "Interrupted" : "Not reproduced"}: ${s.reproduced} of ${s.steps} step(s)
    reproduced${verified}${parts.length > 0 ? `; ${parts.join(", ")}` : ""}.
  </p>`;
}

export function replayPage({ view, diffs, tokenRequired, attestation }: ReplayPageData): string {
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
        <span id="replay-status">${replayVerdict(r.status, r.verdict)}</span>
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
        ${signatureFacts(view, attestation)}
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
            <p>${textWithHashes(m.first_divergence.reason)}</p>
            ${
              originsOf(m).length > 1
                ? html`<h3>Every origin (${originsOf(m).length})</h3>
                    <ul class="origins">
                      ${originsOf(m).map(
                        (o) => html`<li><code>${o.step_id}</code> origin: ${textWithHashes(o.reason)}</li>`,
                      )}
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
                      ${m.warnings.map((w) => html`<li>${textWithHashes(w)}</li>`)}
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
