import type { HandlerOutcome, StepHandler } from "./handler.js";

/** A step type that is known but cannot run in a network-less sandbox. */
export function unreplayableHandler(stepType: string, why: string): StepHandler {
  return {
    stepType,
    mode: "unreplayable",
    replay(): Promise<HandlerOutcome> {
      return Promise.resolve({ kind: "unreplayable", reason: `${stepType}: ${why}` });
    },
  };
}
