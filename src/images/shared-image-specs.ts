/** How an environment image and the base image are named and checked in a shared registry. */
import type { Environment } from "../chain/types.js";
import { envImageTag, envRemoteTag } from "./env-image-labels.js";
import { envImageProblem } from "./env-image-trust.js";
import type { SharedImageSpec } from "./image-registry.js";
import { BASE_IMAGE } from "./types.js";

export const ENV_REPOSITORY = "replay-env";
export const BASE_REPOSITORY = "replay-base";

/** docker/replay-base.Dockerfile's label: the image claims to be our Debian 12 base. */
const BASE_LABEL = "org.replay-runner.base";

export function envImageSpec(environment: Environment): SharedImageSpec {
  const [repository = ENV_REPOSITORY, tag = ""] = envImageTag(environment.envHash).split(":");
  return {
    name: ENV_REPOSITORY,
    tag: envRemoteTag(environment.envHash),
    key: environment.envHash,
    local: { repository, tag },
    what: `environment ${environment.envHash}`,
    check: (labels) => envImageProblem(labels, environment),
  };
}

/** Only replay-base:bookworm is shared: other base images are the operator's to provide. */
export function baseImageSpec(): SharedImageSpec {
  const [repository = BASE_REPOSITORY, tag = "bookworm"] = BASE_IMAGE.split(":");
  return {
    name: BASE_REPOSITORY,
    tag,
    key: BASE_IMAGE,
    local: { repository, tag },
    what: `the base image ${BASE_IMAGE}`,
    check: (labels) =>
      labels[BASE_LABEL] === tag
        ? null
        : `its labels do not claim to be ${BASE_IMAGE} (${BASE_LABEL} is ${JSON.stringify(labels[BASE_LABEL] ?? null)})`,
  };
}
