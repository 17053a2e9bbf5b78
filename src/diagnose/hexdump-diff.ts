/**
 * diffoscope compares what it does not recognise as a hexdump (`xxd`: "00000060: 6174 6564 ...
 * ated 2025-01-01"). The hex columns carry the bytes, so a hunk gives back both sides' bytes: for
 * text (an SVG, which file(1) does not call text) the changed lines, otherwise the first offset
 * that differs.
 */
import { diffLines } from "diff";
import { countOf, quoted, verbFor } from "./explanation-text.js";
import type { Hunk } from "./unified-diff.js";

const XXD_LINE = /^([0-9a-f]{8,16}): ((?:[0-9a-f]{2,4} ?){1,16})/;

interface Row {
  offset: number;
  bytes: Buffer;
}

function parseRow(text: string): Row | undefined {
  const match = XXD_LINE.exec(text);
  if (match === null) return undefined;
  const hex = (match[2] ?? "").replace(/ /g, "");
  if (hex.length % 2 !== 0) return undefined;
  return { offset: Number.parseInt(match[1] ?? "0", 16), bytes: Buffer.from(hex, "hex") };
}

function sideBytes(hunk: Hunk, own: "-" | "+"): Buffer | undefined {
  const parts: Buffer[] = [];
  for (const line of hunk.lines) {
    if (line.tag !== " " && line.tag !== own) continue;
    const row = parseRow(line.text);
    if (row === undefined) return undefined;
    parts.push(row.bytes);
  }
  return Buffer.concat(parts);
}

/** Text as a reader means it: UTF-8 (a character cut at the hunk's edge aside), no control bytes but tab, CR, LF. */
function asText(bytes: Buffer): string | undefined {
  for (const b of bytes)
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return undefined;
  const text = bytes.toString("utf8");
  const broken = text.split("\ufffd").length - 1;
  return broken <= 2 ? text : undefined;
}

function firstDifferingOffset(hunks: readonly Hunk[]): number | undefined {
  for (const hunk of hunks) {
    const removed = hunk.lines.filter((l) => l.tag === "-").map((l) => parseRow(l.text));
    const added = hunk.lines.filter((l) => l.tag === "+").map((l) => parseRow(l.text));
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      const a = removed[i];
      const b = added[i];
      if (a === undefined || b === undefined) return (a ?? b)?.offset;
      const n = Math.min(a.bytes.length, b.bytes.length);
      for (let j = 0; j < n; j++) if (a.bytes[j] !== b.bytes[j]) return a.offset + j;
      if (a.bytes.length !== b.bytes.length) return a.offset + n;
    }
  }
  return undefined;
}

/** Undefined when the hunks are not an xxd hexdump. */
export function describeHexdump(hunks: readonly Hunk[]): string | undefined {
  let changed = 0;
  let first: string | undefined;
  let text = hunks.length > 0;
  for (const hunk of hunks) {
    const before = sideBytes(hunk, "-");
    const after = sideBytes(hunk, "+");
    if (before === undefined || after === undefined) return undefined;
    const a = asText(before);
    const b = asText(after);
    if (a === undefined || b === undefined) {
      text = false;
      break;
    }
    let removed = 0;
    let added = 0;
    for (const part of diffLines(a, b)) {
      const lines = part.value.split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);
      if (!part.added && !part.removed) {
        // A run of removals and additions is one change: count its larger side, as for text.
        changed += Math.max(removed, added);
        removed = 0;
        added = 0;
      } else if (part.added) {
        added += lines.length;
        first ??= lines.find((l) => l.trim() !== "");
      } else {
        removed += lines.length;
      }
    }
    changed += Math.max(removed, added);
  }
  if (text && changed > 0) {
    const head = `${countOf(changed, "line", "lines")} ${verbFor(changed)}`;
    return first === undefined ? head : `${head}, first ${quoted(first)}`;
  }
  const offset = firstDifferingOffset(hunks);
  if (offset === undefined) return undefined;
  return `bytes differ from offset ${offset} (0x${offset.toString(16)})`;
}
