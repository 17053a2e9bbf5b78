/**
 * Whether an image is the environment a registry row names: its labels must record that row's
 * env_hash, its base image and the SHA-256 of its lock file. The same check for an image found
 * locally and for one a registry offers; what the check proves (and does not) is in
 * docs/security.md ("A shared image registry").
 */
import type { Environment } from "../chain/types.js";
import { sha256Hex } from "../hashing/index.js";
import { parseEnvImageLabels } from "./env-image-labels.js";

/** null when the labels match `environment`; otherwise why not, naming what the labels claim. */
export function envImageProblem(labels: Record<string, string>, environment: Environment): string | null {
  const claimed = parseEnvImageLabels(labels);
  if (claimed === null)
    return `it carries no replay-runner environment labels (wanted ${environment.envHash})`;
  if (claimed.envHash !== environment.envHash)
    return `its labels claim environment ${claimed.envHash}, not ${environment.envHash}`;
  if (claimed.baseRef !== environment.baseImage) {
    // JSON: a label is whatever the pusher wrote, and this message reaches terminals.
    return `its labels claim base image ${JSON.stringify(claimed.baseRef ?? null)}, while environment ${environment.envHash} names ${JSON.stringify(environment.baseImage)}`;
  }
  const lockSha256 = sha256Hex(environment.requirementsLock);
  if (claimed.lockSha256 !== lockSha256) {
    return `its labels claim a lock file with SHA-256 ${claimed.lockSha256}, while environment ${environment.envHash}'s hashes to ${lockSha256}`;
  }
  return null;
}
