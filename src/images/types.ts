import type { Environment } from "../chain/types.js";

export const BASE_IMAGE = "replay-base:bookworm";

export interface ResolvedImage {
  /** The tag the step runs in (replay-base:bookworm, or replay-env:<hex> for pinned pip environments). */
  ref: string;
  /** The engine's image id (sha256:...), recorded in the manifest. */
  imageId: string;
  /** True when this call had to build it. */
  built: boolean;
  /** Time spent resolving (and building). */
  seconds: number;
}

export interface ImageResolver {
  /** The image for an environment; null means "never pinned": the bare base image. */
  resolve(environment: Environment | null, signal?: AbortSignal): Promise<ResolvedImage>;
}
