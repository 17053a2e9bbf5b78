/**
 * Labels of an environment image: what it was built for. A tag is reused only when its labels
 * say the same environment and the same lock bytes (a tag is only the first 32 hex digits).
 */
import { z } from "zod";

export const ENV_LABEL = {
  envHash: "org.replay-runner.env-hash",
  lockSha256: "org.replay-runner.lock-sha256",
  baseImage: "org.replay-runner.base-image",
} as const;

const envImageLabelsSchema = z.object({
  [ENV_LABEL.envHash]: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  [ENV_LABEL.lockSha256]: z.string().regex(/^[0-9a-f]{64}$/),
});

export interface EnvImageLabels {
  envHash: string;
  lockSha256: string;
}

/** The labels when they are well-formed; null for an image replay-runner did not build. */
export function parseEnvImageLabels(labels: Record<string, string>): EnvImageLabels | null {
  const parsed = envImageLabelsSchema.safeParse(labels);
  if (!parsed.success) return null;
  return { envHash: parsed.data[ENV_LABEL.envHash], lockSha256: parsed.data[ENV_LABEL.lockSha256] };
}

export function envImageTag(envHash: string): string {
  return `replay-env:${envHash.replace(/^sha256:/, "").slice(0, 32)}`;
}
