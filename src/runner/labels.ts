/**
 * Labels on everything replay-runner creates in the engine, so that what a crashed or killed
 * process left behind can be found (reaper.ts) and attributed to a run and a step.
 */
import os from "node:os";

export const LABEL = {
  run: "org.replay-runner.run",
  step: "org.replay-runner.step",
  pid: "org.replay-runner.pid",
  host: "org.replay-runner.host",
} as const;

export interface ResourceOwner {
  runId: string;
  stepId: string;
}

export function hostLabelValue(): string {
  return os.hostname();
}

export function resourceLabels(owner: ResourceOwner, pid: number = process.pid): Record<string, string> {
  return {
    [LABEL.run]: owner.runId,
    [LABEL.step]: owner.stepId,
    [LABEL.pid]: String(pid),
    [LABEL.host]: hostLabelValue(),
  };
}

/** A `key=value` filter for the engine's list calls. */
export function labelFilter(key: string, value: string): string {
  return `${key}=${value}`;
}
