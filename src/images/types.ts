import type { Environment } from "../chain/types.js";

export const BASE_IMAGE = "replay-base:bookworm";

/** Where the image a step runs in came from. */
export type ImageSource = "local" | "pulled" | "built";

export interface ResolvedImage {
  /** The tag the step runs in (replay-base:bookworm, or replay-env:<hex> for pinned pip environments). */
  ref: string;
  /** The engine's image id (sha256:...), recorded in the manifest. */
  imageId: string;
  /** The shared registry's manifest digest of this image (sha256:...); null when it has none. */
  digest: string | null;
  /** local: found in the engine; pulled: from the shared registry; built: by this call. */
  source: ImageSource;
  /** Why the registry was not used when it was configured (down, refused, untrusted image). */
  warnings: string[];
  /** Time spent resolving (and building). */
  seconds: number;
}

export interface ImageResolver {
  /** The image for an environment; null means "never pinned": the bare base image. */
  resolve(environment: Environment | null, signal?: AbortSignal): Promise<ResolvedImage>;
}
