export { BASE_IMAGE } from "./types.js";
export type { ImageResolver, ResolvedImage } from "./types.js";
export { DockerImageResolver } from "./docker-image-resolver.js";
export type { DockerImageResolverOptions } from "./docker-image-resolver.js";
export {
  BASE_IMAGE_HINT,
  BUILD_BASE_IMAGE_SCRIPT,
  canBuildBaseImage,
  ensureBaseImage,
  runImageBuildScript,
} from "./base-image.js";
export type { BaseImageBuildOptions } from "./base-image.js";
export { ENV_LABEL, envImageTag, parseEnvImageLabels } from "./env-image-labels.js";
export type { EnvImageLabels } from "./env-image-labels.js";
export { envDockerfile, PIP_INSTALL_ARGV } from "./env-dockerfile.js";
export type { WheelSource } from "./env-dockerfile.js";
export { envBuildContext } from "./build-context.js";
export { pinnedSha256s, wheelsForLock } from "./wheelhouse.js";
export type { WheelFile } from "./wheelhouse.js";
export { SingleFlight } from "./single-flight.js";
