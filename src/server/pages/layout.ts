/** The page shell: one stylesheet and one script, both served by this server (no inline code, see the CSP). */
import { html, type SafeHtml } from "./html.js";

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** Serialised into data- attributes for static/app.js. */
  data?: Record<string, string>;
}

export function layout(options: LayoutOptions): string {
  const attrs = Object.entries(options.data ?? {}).map(([k, v]) => html` data-${k}="${v}"`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · replay-runner</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body${attrs}>
<header class="top"><a class="brand" href="/">replay-runner</a><span class="tagline">byte-for-byte reproduction of recorded processing steps</span></header>
<main>
${options.body}
</main>
</body>
</html>
`.value;
}
