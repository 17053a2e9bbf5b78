/**
 * The unified diffs inside diffoscope's JSON report (and the built-in diff): hunks of context,
 * removed and added lines, read without trusting them to be well formed.
 */
import { countOf, quoted, verbFor } from "./explanation-text.js";

export interface DiffLine {
  tag: " " | "-" | "+";
  text: string;
}

export interface Hunk {
  lines: DiffLine[];
}

/** More lines than this are not looked at: an explanation needs the first differences. */
const MAX_LINES = 20_000;

export function parseHunks(unified: string): Hunk[] {
  const hunks: Hunk[] = [];
  let current: Hunk | undefined;
  let seen = 0;
  for (const line of unified.split("\n")) {
    if (++seen > MAX_LINES) break;
    if (line.startsWith("@@")) {
      current = { lines: [] };
      hunks.push(current);
      continue;
    }
    // Before the first hunk: file headers (---, +++, Index:, ===), not content.
    if (current === undefined) continue;
    const tag = line[0];
    if (tag === " " || tag === "-" || tag === "+") current.lines.push({ tag, text: line.slice(1) });
    // "\ No newline at end of file", diffoscope's "[ n lines removed ]" and the like: not content.
  }
  return hunks;
}

/** The lines of one side of the hunks: context and removed (old), or context and added (new). */
export function sideOf(hunk: Hunk, side: "old" | "new"): string[] {
  const own = side === "old" ? "-" : "+";
  return hunk.lines.filter((l) => l.tag === " " || l.tag === own).map((l) => l.text);
}

export interface LineChanges {
  /** Changed lines: in each run of changes, the larger of its removed and added counts. */
  count: number;
  /** The first changed line as the replayed side has it (the removed one when nothing was added). */
  first: string | undefined;
}

export function lineChanges(hunks: readonly Hunk[], ignore?: (text: string) => boolean): LineChanges {
  let count = 0;
  let first: string | undefined;
  let firstRemoved: string | undefined;
  for (const hunk of hunks) {
    let removed = 0;
    let added = 0;
    const flush = () => {
      count += Math.max(removed, added);
      removed = 0;
      added = 0;
    };
    for (const line of hunk.lines) {
      if (line.tag === " ") {
        flush();
        continue;
      }
      if (ignore?.(line.text) === true) continue;
      if (line.tag === "-") {
        removed++;
        firstRemoved ??= line.text;
      } else {
        added++;
        first ??= line.text;
      }
    }
    flush();
  }
  return { count, first: first ?? firstRemoved };
}

/** `3 lines differ, first "generated 2026-…"`, or undefined when nothing changed. */
export function describeLineChanges(changes: LineChanges): string | undefined {
  if (changes.count === 0) return undefined;
  const head = `${countOf(changes.count, "line", "lines")} ${verbFor(changes.count)}`;
  const first = changes.first?.trim() ?? "";
  return first === "" ? head : `${head}, first ${quoted(first)}`;
}
