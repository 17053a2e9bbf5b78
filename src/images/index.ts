export { BASE_IMAGE } from "./types.js";
export type { ImageResolver, ImageSource, ResolvedImage } from "./types.js";
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
export { ENV_LABEL, envImageTag, envRemoteTag, parseEnvImageLabels } from "./env-image-labels.js";
export { envImageProblem } from "./env-image-trust.js";
export { ImageRegistry } from "./image-registry.js";
export type { ImageRegistryOptions, PullOutcome, SharedImageSpec } from "./image-registry.js";
export { MemoryImageCache, SqlImageCache } from "./image-cache.js";
export type { CachedImage, ImageCache } from "./image-cache.js";
export { PULL_POLICIES, parsePullPolicy } from "./pull-policy.js";
export type { PullPolicy } from "./pull-policy.js";
export { parseRegistryAddress, repositoryOf, repositoryPath } from "./registry-address.js";
export type { RegistryAddress } from "./registry-address.js";
export { dockerConfigFile, registryCredentials } from "./registry-credentials.js";
export { RegistryHttp } from "./registry-http.js";
export type { RemoteManifest } from "./registry-http.js";
export { BASE_REPOSITORY, ENV_REPOSITORY, baseImageSpec, envImageSpec } from "./shared-image-specs.js";
export type { EnvImageLabels } from "./env-image-labels.js";
export { envDockerfile, PIP_INSTALL_ARGV } from "./env-dockerfile.js";
export type { WheelSource } from "./env-dockerfile.js";
export { envBuildContext } from "./build-context.js";
export { pinnedSha256s, wheelsForLock } from "./wheelhouse.js";
export type { WheelFile } from "./wheelhouse.js";
export { SingleFlight } from "./single-flight.js";
export { checkImageReference, quotedReference, REPOSITORY_NAME_MAX } from "./image-reference.js";
export type { ImageReference, ImageReferenceCheck } from "./image-reference.js";
