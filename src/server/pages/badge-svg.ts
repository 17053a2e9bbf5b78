/**
 * A small SVG badge like those READMEs embed: "reproduced · 2026-12-01" (green), "not
 * reproduced" (red), "never verified" (grey). Every text goes through the html template's
 * escaping (valid for XML too); characters XML 1.0 cannot hold at all are replaced first.
 */
import { dayOf, type HistoryEntry } from "../../history/index.js";
import { html } from "./html.js";

const COLOURS = { reproduced: "#2e7d32", not_reproduced: "#c62828", never: "#6b7280" } as const;

/** XML 1.0 allows no C0 control but tab, LF and CR, no lone surrogate, no U+FFFE/U+FFFF. */
function xmlText(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    out += allowed ? ch : "\uFFFD";
  }
  return out;
}

/** Rough width of text in 11px Verdana-like type: enough for a badge. */
function widthOf(text: string): number {
  return Math.round(text.length * 6.6 + 12);
}

export function badgeLabel(latest: HistoryEntry | null): { text: string; colour: string } {
  if (latest === null) return { text: "never verified", colour: COLOURS.never };
  if (latest.verdict === "reproduced")
    return { text: `reproduced · ${dayOf(latest.verified_at)}`, colour: COLOURS.reproduced };
  return { text: "not reproduced", colour: COLOURS.not_reproduced };
}

export function badgeSvg(artifactId: string, latest: HistoryEntry | null): string {
  const left = "replay";
  const { text, colour } = badgeLabel(latest);
  const lw = widthOf(left);
  const rw = widthOf(text);
  const title = `${artifactId}: ${text}`;
  return html`<svg
    xmlns="http://www.w3.org/2000/svg"
    width="${lw + rw}"
    height="20"
    role="img"
    aria-label="${xmlText(title)}"
  >
    <title>${xmlText(title)}</title>
    <rect width="${lw}" height="20" fill="#555" />
    <rect x="${lw}" width="${rw}" height="20" fill="${colour}" />
    <g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
      <text x="${lw / 2}" y="14">${left}</text>
      <text x="${lw + rw / 2}" y="14">${text}</text>
    </g>
  </svg> `.value;
}
