/**
 * Text from the registry, a step or a payload is hostile when it reaches a terminal: an
 * ESC or CSI sequence sets the window title or clears the screen, a carriage return or a
 * bidi override rewrites what a line seems to say (a ✗ that reads as ✓). Everything such
 * text passes through on its way to a terminal goes through here, and comes out as printable
 * characters only, each control shown as its escape.
 */

/**
 * C0 controls and DEL; C1 controls (U+0080-U+009F: U+009B is CSI to many terminals); the bidi
 * embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and marks (U+200E,
 * U+200F, U+061C); the line and paragraph separators (U+2028, U+2029).
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

function escapeOf(char: string): string {
  const code = char.charCodeAt(0);
  return (
    NAMED[char] ??
    (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`)
  );
}

/**
 * `text` as one line of printable characters: `ESC]0;x BEL` shows as `\x1b]0;x\x07`, CR as
 * `\r`, a newline as `\n`, U+202E as `\u202e`. Printable text, backslashes included, is
 * unchanged, so the result passes through again unchanged.
 */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, escapeOf);
}

/**
 * What JSON.stringify leaves raw inside strings (DEL, C1, bidi, U+2028/U+2029; it escapes C0
 * itself), so that `--json` output on a terminal is as inert as text output.
 */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `JSON.stringify(value, null, 2)` with those characters as \u escapes: the same JSON value. */
export function visibleJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    RAW_IN_JSON,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Text of several lines (a message, a diff): each line made visible, the newlines kept. */
export function visibleLines(text: string): string {
  return text.split("\n").map(visibleText).join("\n");
}
