/**
 * A step's environment as the registry holds it. Problems here are per step, never fatal
 * for the walk: lineage shows them, and a replay decides what to do with each step.
 */
import { envHashOf } from "../hashing/index.js";
import { checkImageReference } from "../images/image-reference.js";
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
  // The row is what was recorded, but no engine could run it: checked here, before any engine call.
  const image = checkImageReference(environment.baseImage);
  if (!image.ok) return { kind: "invalid", environment, problem: image.problem };
  return { kind: "pinned", environment };
}

/** True for the states a replay cannot trust or run (the recorded environment is gone, changed or unusable). */
export function isEnvironmentProblem(state: EnvironmentState): boolean {
  return state.kind === "missing" || state.kind === "altered" || state.kind === "invalid";
}
