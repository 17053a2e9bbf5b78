/**
 * When an image is taken from the shared registry: the words of Docker's and testcontainers'
 * pull policies. `missing`: a valid local image, else pull, else build. `never`: no pulls,
 * build locally (a build is still pushed). `always`: ask the registry first, even when a valid
 * local image exists (it is used only when the registry cannot serve one).
 */
import { ReplayError } from "../errors/index.js";

export const PULL_POLICIES = ["missing", "never", "always"] as const;

export type PullPolicy = (typeof PULL_POLICIES)[number];

export function parsePullPolicy(raw: string | undefined): PullPolicy {
  if (raw === undefined) return "missing";
  const value = raw.trim().toLowerCase();
  const policy = PULL_POLICIES.find((p) => p === value);
  if (policy === undefined) {
    throw new ReplayError("USAGE", `--pull "${raw}" is not one of ${PULL_POLICIES.join(", ")}.`, {
      hint: "missing (default): local, else pull, else build; never: build locally; always: refresh from the registry.",
    });
  }
  return policy;
}
