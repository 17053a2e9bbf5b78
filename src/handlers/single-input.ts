import type { HandlerContext, HandlerOutcome, ReplayInput } from "./handler.js";

/**
 * The one input of a built-in step that takes exactly one (fork, cite), or the failed
 * outcome that says how many it has instead.
 */
export function singleInput(
  context: HandlerContext,
  what: string,
): { input: ReplayInput } | { failed: HandlerOutcome } {
  const [input, ...rest] = context.inputs;
  if (input === undefined || rest.length > 0) {
    return { failed: { kind: "failed", reason: `${what}; this step has ${context.inputs.length} inputs` } };
  }
  return { input };
}
