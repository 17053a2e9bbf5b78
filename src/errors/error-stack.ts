/** An error's stack with its causes, for a server's log (never for a client). */
import { inspect } from "node:util";

export function stackOf(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    lines.push(current instanceof Error ? (current.stack ?? current.message) : describe(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push("caused by:");
  }
  // The log is a terminal and messages may carry registry text: control characters are shown,
  // not obeyed (tabs and newlines stay).
  return lines
    .join("\n")
    .replace(
      /[^\t\n\x20-\x7e\xa0-\uffff\u{10000}-\u{10ffff}]/gu,
      (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
    );
}

function describe(value: unknown): string {
  return typeof value === "string" ? value : inspect(value, { depth: 2 });
}
