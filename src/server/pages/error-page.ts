/** The HTML form of a problem, for the web pages (the API answers problem+json). */
import { html } from "./html.js";
import { layout } from "./layout.js";

export function errorPage(problem: {
  status: number;
  title: string;
  detail: string;
  hint?: string | undefined;
}): string {
  return layout({
    title: problem.title,
    body: html`<section class="card error-card">
      <h1>${problem.status} · ${problem.title}</h1>
      <p>${problem.detail}</p>
      ${problem.hint === undefined ? "" : html`<p class="hint">${problem.hint}</p>`}
      <p><a href="/">Back to the start page</a></p>
    </section>`,
  });
}
