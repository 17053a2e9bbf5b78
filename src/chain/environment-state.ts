/**
 * A step's environment as the registry holds it. Problems here are per step, never fatal
 * for the walk: lineage shows them, and a replay decides what to do with each step.
 */
import { envHashOf } from "../hashing/index.js";
import type { Environment, EnvironmentState } from "./types.js";

export function environmentStateOf(
  envHash: string | null,
  environments: ReadonlyMap<string, Environment>,
): EnvironmentState {
  if (envHash === null) return { kind: "unpinned" };
  const environment = environments.get(envHash);
  if (environment === undefined) return { kind: "missing", envHash };
  const actualHash = envHashOf(environment);
  if (actualHash !== envHash) return { kind: "altered", environment, actualHash };
  return { kind: "pinned", environment };
}

/** True for the states a replay cannot trust (the recorded environment is gone or changed). */
export function isEnvironmentProblem(state: EnvironmentState): boolean {
  return state.kind === "missing" || state.kind === "altered";
}
