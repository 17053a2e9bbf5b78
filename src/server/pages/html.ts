/**
 * HTML with escaping by default: every value interpolated into the `html` template is escaped
 * unless it is itself SafeHtml (built by `html` or `raw`). Registry data (titles, methods, ids,
 * reasons) is untrusted, so nothing reaches a page without passing through here.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

/** Only for markup this code wrote itself (never for data). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A URL path segment for an id: ids may hold `/`, `?`, `#` or anything else. */
export function seg(id: string): string {
  return encodeURIComponent(id);
}
