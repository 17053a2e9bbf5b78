/** GET /artifacts/:id — what a reviewer sees first: the artifact, how it was made, its replays, Rerun. */
import type { Artifact, Chain, ChainStep, EnvironmentState } from "../../chain/types.js";
import type { HistoryEntry } from "../../history/index.js";
import type { ReplayView } from "../replay-store.js";
import { historyTimeline } from "./history-timeline.js";
import { formatBytes, formatTime, hashCell, replayVerdict } from "./format.js";
import { html, seg, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";

const ENV_WORDS: Record<EnvironmentState["kind"], { words: string; tone: string; why: string }> = {
  pinned: {
    words: "env pinned",
    tone: "ok",
    why: "the environments row exists and still hashes to env_hash",
  },
  unpinned: {
    words: "env unpinned",
    tone: "warn",
    why: "env_hash is NULL: the step ran outside the sandbox",
  },
  missing: { words: "env missing", tone: "bad", why: "env_hash points at no environments row" },
  altered: {
    words: "env altered",
    tone: "bad",
    why: "the environments row no longer hashes to its env_hash",
  },
  invalid: {
    words: "env invalid",
    tone: "bad",
    why: "the environments row's base_image is not a Docker image reference",
  },
};

function envBadge(state: EnvironmentState): SafeHtml {
  const e = ENV_WORDS[state.kind];
  return html`<span class="badge ${e.tone}" title="${e.why}">${e.words}</span>`;
}

function artifactLine(a: Artifact, inputName: string | null): SafeHtml {
  return html`${inputName === null ? "" : html`<span class="input-name">${inputName}</span>`}${
      a.title === null ? "" : html`<span class="artifact-title">${a.title}</span> `
    }<a class="artifact-id" href="/artifacts/${seg(a.id)}">${a.id}</a>
    <span class="muted">${a.artifactType}</span> ${hashCell(a.contentHash)}`;
}

function stepLine(cs: ChainStep): SafeHtml {
  return html`<div class="step-line">
    <span class="arrow" aria-hidden="true">↳</span> <span class="badge type">${cs.step.stepType}</span>
    <code class="step-id">${cs.step.id}</code>
    <span class="method">${cs.step.method}</span> ${envBadge(cs.environment)}
  </div>`;
}

/** The lineage from the target down to its frozen roots; an artifact met twice is shown once. */
function lineageTree(chain: Chain): SafeHtml {
  const producerOf = new Map(chain.steps.map((cs) => [cs.step.targetArtifactId, cs]));
  const shown = new Set<string>();
  const node = (a: Artifact, inputName: string | null, depth: number): SafeHtml => {
    const producer = producerOf.get(a.id);
    if (shown.has(a.id) && producer !== undefined) {
      return html`<li>
        <div class="node">${artifactLine(a, inputName)} <span class="muted">(see above)</span></div>
      </li>`;
    }
    shown.add(a.id);
    if (producer === undefined) {
      return html`<li>
        <div class="node">
          ${artifactLine(a, inputName)}
          <div class="step-line muted">no recorded step produced it: a frozen input</div>
        </div>
      </li>`;
    }
    const showNames = producer.multiInput;
    const children =
      depth > 200 ? [] : producer.inputs.map((i) => node(i.artifact, showNames ? i.name : null, depth + 1));
    return html`<li>
      <div class="node">${artifactLine(a, inputName)}${stepLine(producer)}</div>
      ${
        children.length > 0
          ? html`<ul>
              ${children}
            </ul>`
          : ""
      }
    </li>`;
  };
  return html`<ul class="tree">
    ${node(chain.target, null, 0)}
  </ul>`;
}

function replaySummary(view: ReplayView): string {
  const m = view.manifest;
  if (m !== null) return `${m.summary.reproduced} of ${m.summary.steps} step(s) reproduced`;
  if (view.error !== null) return view.error.message;
  if (view.row.status === "running") return `${view.progress.length} step(s) done`;
  return "";
}

function optionsText(view: ReplayView): string {
  const parts: string[] = [];
  if (view.options.from !== null) parts.push(`from ${view.options.from}`);
  if (view.options.strict) parts.push("strict");
  if (view.options.diff) parts.push("diff");
  if (view.options.triage !== "off") parts.push(view.options.triage === "all" ? "triage all" : "triage");
  return parts.length === 0 ? "all steps" : parts.join(", ");
}

function replaysTable(replays: readonly ReplayView[]): SafeHtml {
  if (replays.length === 0) return html`<p class="muted">No replay yet.</p>`;
  return html`<table class="grid">
    <thead>
      <tr>
        <th>Replay</th>
        <th>Started</th>
        <th>Verdict</th>
        <th>Options</th>
        <th>Outcome</th>
      </tr>
    </thead>
    <tbody>
      ${replays.map(
        (r) =>
          html`<tr>
            <td>
              <a href="/replays/${seg(r.row.id)}"><code>${r.row.id}</code></a>
            </td>
            <td>${formatTime(r.row.started_at ?? r.row.created_at)}</td>
            <td>${replayVerdict(r.row.status, r.row.verdict)}</td>
            <td>${optionsText(r)}</td>
            <td class="reason">${replaySummary(r)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/**
 * A plain form POST (page-routes.ts answers with a redirect to the new replay), so Rerun works
 * without JavaScript; with it, static/app.js sends the same choice to the JSON API instead.
 */
function rerunForm(chain: Chain, tokenRequired: boolean, formNonce: string): SafeHtml {
  return html`<form
    id="rerun-form"
    class="rerun"
    method="post"
    action="/artifacts/${seg(chain.target.id)}/rerun"
    data-artifact="${chain.target.id}"
  >
    <input type="hidden" name="form_nonce" value="${formNonce}" />
    <div class="field">
      <label for="rerun-from">Start from</label>
      <select id="rerun-from" name="from">
        <option value="">every step (full replay)</option>
        ${chain.steps.map(
          (cs) => html`<option value="${cs.step.id}">${cs.step.id} (${cs.step.stepType})</option>`,
        )}
      </select>
    </div>
    <div class="field checks">
      <label
        ><input type="checkbox" name="strict" value="on" id="rerun-strict" /> strict
        <span class="muted">— refuse corrupted frozen inputs</span></label
      >
      <label
        ><input type="checkbox" name="diff" value="on" id="rerun-diff" /> diff
        <span class="muted">— explain each mismatch</span></label
      >
      <label
        ><input type="checkbox" name="triage" value="on" id="rerun-triage" /> triage
        <span class="muted"
          >— replay each origin mismatch again and under variations: why did it not reproduce?</span
        ></label
      >
    </div>
    ${
      tokenRequired
        ? html`<div class="field">
            <label for="rerun-token">API token</label
            ><input
              type="password"
              id="rerun-token"
              name="token"
              autocomplete="off"
              placeholder="REPLAY_API_TOKEN"
            />
            <div class="muted small">Kept in this browser tab only (sessionStorage).</div>
          </div>`
        : ""
    }
    <div class="actions">
      <button type="submit" class="primary" id="rerun-button">Rerun</button
      ><span id="rerun-message" class="message" role="status"></span>
    </div>
  </form>`;
}

export interface ArtifactPageData {
  chain: Chain;
  replays: readonly ReplayView[];
  /** Newest first (src/history). */
  history: readonly HistoryEntry[];
  tokenRequired: boolean;
  /** Makes the form's submissions idempotent per page (see page-routes.ts). */
  formNonce: string;
}

export function artifactPage({
  chain,
  replays,
  history,
  tokenRequired,
  formNonce,
}: ArtifactPageData): string {
  const a = chain.target;
  const body = html`<section class="card">
      <p class="eyebrow">Artifact</p>
      <h1>${a.title ?? a.id}</h1>
      <dl class="facts">
        <dt>Id</dt>
        <dd><code>${a.id}</code></dd>
        <dt>Type</dt>
        <dd>${a.artifactType}</dd>
        <dt>Content hash</dt>
        <dd>${hashCell(a.contentHash)}</dd>
        <dt>Payload</dt>
        <dd>
          <a class="download" id="payload-download" href="/artifacts/${seg(a.id)}/payload" download
            >download</a
          >
        </dd>
        <dt>Size</dt>
        <dd>${formatBytes(a.sizeBytes)}</dd>
        <dt>Media type</dt>
        <dd>${a.mediaType ?? "unknown"}</dd>
        <dt>Recorded</dt>
        <dd>${formatTime(a.createdAt)}</dd>
      </dl>
    </section>
    <section class="card">
      <h2>Rerun</h2>
      <p class="muted">
        Replays every step behind this artifact in fresh, network-less containers and compares each output
        byte for byte.
      </p>
      ${rerunForm(chain, tokenRequired, formNonce)}
    </section>
    <section class="card">
      <h2>Lineage <span class="muted small">${chain.steps.length} step(s)</span></h2>
      ${lineageTree(chain)}
    </section>
    <section class="card">
      <h2>Reproducibility history</h2>
      ${historyTimeline(history)}
    </section>
    <section class="card">
      <h2>Past replays</h2>
      ${replaysTable(replays)}
    </section>`;
  return layout({
    title: a.title ?? a.id,
    body,
    data: { page: "artifact", "token-required": String(tokenRequired) },
  });
}
