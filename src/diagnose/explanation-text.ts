/**
 * Explanations quote payload-derived text (a changed line, a member's name): never a control
 * character, a bidirectional override or an unbounded string, whatever the payload holds.
 */

/** C0 and C1 controls, DEL, and the characters that reorder or hide text on a terminal or page. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/** One line of plain text: unsafe characters become spaces, runs of spaces one. */
export function plainLine(text: string): string {
  return text.replace(UNSAFE, " ").replace(/\s+/g, " ").trim();
}

/** At most `max` characters (code points), the cut marked with an ellipsis. */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join("")}…`;
}

/** A payload snippet in double quotes: one line, bounded. */
export function quoted(text: string, max = 48): string {
  return `"${clip(plainLine(text), max)}"`;
}

/** "1 line differs" / "3 lines differ". */
export function countOf(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "a", "a and b", "a, b and 3 more". */
export function listOf(items: readonly string[], max = 3): string {
  if (items.length <= 1) return items[0] ?? "";
  if (items.length <= max) return `${items.slice(0, -1).join(", ")} and ${items.at(-1) ?? ""}`;
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

/** "differs" after one thing, "differ" after several. */
export function verbFor(n: number): string {
  return n === 1 ? "differs" : "differ";
}
