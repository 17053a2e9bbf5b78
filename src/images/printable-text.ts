/**
 * A registry's error texts reach the engine's messages, and from there warnings and errors
 * (stderr, the manifest, pages): no control characters, so no terminal escapes.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
