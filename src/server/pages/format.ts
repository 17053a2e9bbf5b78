/** Small formatting helpers shared by the pages. */
import { html, type SafeHtml } from "./html.js";

export function shortHash(hash: string | null): string {
  if (hash === null) return "—";
  const hex = hash.startsWith("sha256:") ? hash.slice(7) : hash;
  return hex.length > 10 ? `${hex.slice(0, 10)}…` : hex;
}

/** A shortened hash, the full value in `title`, and a copy button (static/app.js handles it). */
export function hashCell(hash: string | null): SafeHtml {
  if (hash === null) return html`<span class="muted">—</span>`;
  return html`<span class="hash"
    ><code title="${hash}">${shortHash(hash)}</code
    ><button type="button" class="copy" data-copy="${hash}" title="Copy ${hash}" aria-label="Copy hash">
      copy
    </button></span
  >`;
}

const FULL_HASH = /sha256:[0-9a-f]{64}/g;

/**
 * Text (a reason, a warning) with every full content hash in it shortened like hashCell: 64 hex
 * digits wrap over lines in a table cell and hide what the sentence says.
 */
export function textWithHashes(text: string | null): SafeHtml {
  if (text === null) return html``;
  const parts: SafeHtml[] = [];
  let last = 0;
  for (const match of text.matchAll(FULL_HASH)) {
    parts.push(html`${text.slice(last, match.index)}`, hashCell(match[0]));
    last = match.index + match[0].length;
  }
  parts.push(html`${text.slice(last)}`);
  return html`${parts}`;
}

export function formatBytes(size: number | null): string {
  if (size === null) return "unknown";
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${size} bytes`
    : `${value.toFixed(1)} ${units[unit] ?? ""} (${size.toLocaleString("en")} bytes)`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function formatTime(date: Date | string | null): string {
  if (date === null) return "—";
  const d = typeof date === "string" ? new Date(date) : date;
  return Number.isNaN(d.getTime())
    ? "—"
    : d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC");
}

const STEP_VERDICTS: Record<string, { words: string; tone: string }> = {
  reproduced: { words: "reproduced", tone: "ok" },
  verified: { words: "verified", tone: "ok" },
  mismatch: { words: "mismatch", tone: "bad" },
  failed: { words: "failed", tone: "bad" },
  unreplayable: { words: "unreplayable", tone: "warn" },
  interrupted: { words: "interrupted", tone: "warn" },
  running: { words: "running…", tone: "info" },
  pending: { words: "waiting", tone: "muted" },
};

export function stepVerdict(status: string): SafeHtml {
  const v = STEP_VERDICTS[status] ?? { words: status, tone: "muted" };
  return html`<span class="badge ${v.tone}">${v.words}</span>`;
}

const REPLAY_STATUSES: Record<string, { words: string; tone: string }> = {
  queued: { words: "queued", tone: "muted" },
  running: { words: "running", tone: "info" },
  interrupted: { words: "interrupted", tone: "warn" },
  failed: { words: "could not run", tone: "bad" },
};
const REPLAY_VERDICTS: Record<string, { words: string; tone: string }> = {
  reproduced: { words: "reproduced", tone: "ok" },
  not_reproduced: { words: "not reproduced", tone: "bad" },
};

/** A replay's badge: the verdict once it finished, else its status (failed: it could not run). */
export function replayVerdict(status: string, verdict: string | null): SafeHtml {
  const v =
    status === "finished" && verdict !== null
      ? (REPLAY_VERDICTS[verdict] ?? { words: verdict, tone: "muted" })
      : (REPLAY_STATUSES[status] ?? { words: status, tone: "muted" });
  return html`<span class="badge ${v.tone}" data-status="${status}" data-verdict="${verdict ?? ""}"
    >${v.words}</span
  >`;
}
