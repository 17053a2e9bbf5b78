/**
 * Labels of an environment image: what it was built for. A tag is reused only when its labels
 * say the same environment and the same lock bytes (a tag is only the first 32 hex digits).
 */
import { z } from "zod";

export const ENV_LABEL = {
  envHash: "org.replay-runner.env-hash",
  lockSha256: "org.replay-runner.lock-sha256",
  /** The environments row's base_image (a reference), as the env_hash covers it. */
  baseRef: "org.replay-runner.base-ref",
  /** The id of the base image the build started from (it differs between runners). */
  baseImage: "org.replay-runner.base-image",
} as const;

const envImageLabelsSchema = z.object({
  [ENV_LABEL.envHash]: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  [ENV_LABEL.lockSha256]: z.string().regex(/^[0-9a-f]{64}$/),
  [ENV_LABEL.baseRef]: z.string().min(1).optional(),
});

export interface EnvImageLabels {
  envHash: string;
  lockSha256: string;
  /** Absent on images built before replay-runner recorded it. */
  baseRef: string | undefined;
}

/** The labels when they are well-formed; null for an image replay-runner did not build. */
export function parseEnvImageLabels(labels: Record<string, string>): EnvImageLabels | null {
  const parsed = envImageLabelsSchema.safeParse(labels);
  if (!parsed.success) return null;
  return {
    envHash: parsed.data[ENV_LABEL.envHash],
    lockSha256: parsed.data[ENV_LABEL.lockSha256],
    baseRef: parsed.data[ENV_LABEL.baseRef],
  };
}

export function envImageTag(envHash: string): string {
  return `replay-env:${envHash.replace(/^sha256:/, "").slice(0, 32)}`;
}

/** The tag of an environment image in a shared registry: the whole env_hash, no truncation. */
export function envRemoteTag(envHash: string): string {
  return envHash.replace(/^sha256:/, "");
}
