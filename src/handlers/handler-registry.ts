/**
 * step_type -> handler. Adding a step type is one handler file plus one line here;
 * `replay-runner step-types` reads this to say which types are handled.
 */
import { analysisHandler } from "./analysis.js";
import { citeHandler } from "./cite.js";
import { forkHandler } from "./fork.js";
import type { StepHandler } from "./handler.js";
import { ingestHandler } from "./ingest.js";
import { llmSummarizeHandler } from "./llm-summarize.js";
import { mergeHandler } from "./merge.js";
import { renderHandler } from "./render.js";
import { transformHandler } from "./transform.js";

const HANDLERS: readonly StepHandler[] = [
  ingestHandler,
  forkHandler,
  citeHandler,
  transformHandler,
  analysisHandler,
  renderHandler,
  mergeHandler,
  llmSummarizeHandler,
];

const byType = new Map(HANDLERS.map((h) => [h.stepType, h]));

export function handlerFor(stepType: string): StepHandler | undefined {
  return byType.get(stepType);
}

/** True when replay-runner can re-execute or verify this step type (not merely report it). */
export function isHandled(stepType: string): boolean {
  const handler = byType.get(stepType);
  return handler !== undefined && handler.mode !== "unreplayable";
}
