/**
 * Where replay-runner reads and writes: from the contract's environment variables, with
 * flags of the same meaning taking precedence.
 */
import path from "node:path";
import { z } from "zod";
import { ReplayError } from "../errors/index.js";
import { checkImageReference, quotedReference } from "../images/image-reference.js";
import { parsePullPolicy, type PullPolicy } from "../images/pull-policy.js";
import { parseRegistryAddress, type RegistryAddress } from "../images/registry-address.js";
import { redactDatabaseUrl } from "./redact-url.js";

export interface Settings {
  /** null: the embedded registry under `home`. */
  databaseUrl: string | null;
  /** REPLAY_HOME, default `.replay` in the working directory. */
  home: string;
  embeddedDir: string;
  blobRoot: string;
  dockerHost: string | undefined;
  wheelhouse: string | undefined;
  pipIndexUrl: string | undefined;
  /**
   * REPLAY_MAX_OUTPUT_BYTES: the largest file a step may write (the sandbox's `fsize` limit, and
   * the largest /out/output accepted). Undefined: the default of handlers/container-step.ts.
   */
  maxOutputBytes: number | undefined;
  /**
   * REPLAY_HOST_MOUNTS: stage /in, /code and /out as bind mounts of folders under
   * `<home>/staging` instead of copying archives through the Engine API (runner/step-transport.ts).
   * "auto" (the default) uses them when the engine is on this host (a unix socket); "off" never.
   */
  hostMounts: boolean;
  /** REPLAY_IMAGE_REGISTRY (--image-registry): the OCI registry environment images are shared through. */
  imageRegistry: RegistryAddress | undefined;
  /** REPLAY_IMAGE_REGISTRY_INSECURE: plain HTTP to a registry that is not on loopback. */
  imageRegistryInsecure: boolean;
  /** --pull (REPLAY_PULL): missing (default), never, always. */
  pullPolicy: PullPolicy;
  /** REPLAY_DIFF_IMAGE: the image `--diff` runs diffoscope in (default replay-diffoscope:bookworm). */
  diffImage: string | undefined;
  /** REPLAY_DIFF_TIMEOUT_S: the wall clock of one diff (default src/diagnose/diff-limits.ts). */
  diffTimeoutS: number | undefined;
}

export interface SettingsFlags {
  db?: string | undefined;
  blobs?: string | undefined;
  home?: string | undefined;
  imageRegistry?: string | undefined;
  pull?: string | undefined;
}

const databaseUrlSchema = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), { error: "must be a postgres:// or postgresql:// URL" });

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * overlay2 has no disk quota (without xfs project quotas), so this per-file limit is what bounds
 * the disk a step can fill per file: operators with a small Docker disk lower it.
 */
function maxOutputBytesOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ReplayError(
      "USAGE",
      `REPLAY_MAX_OUTPUT_BYTES "${raw}" is not a positive whole number of bytes.`,
      {
        hint: "Set it to e.g. 10737418240 (10 GiB), or unset it for the default.",
      },
    );
  }
  return value;
}

function insecureOf(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const value = raw.toLowerCase();
  if (["1", "true", "yes"].includes(value)) return true;
  if (["0", "false", "no"].includes(value)) return false;
  throw new ReplayError("USAGE", `REPLAY_IMAGE_REGISTRY_INSECURE "${raw}" is neither 1 nor 0.`, {
    hint: "Set it to 1 to allow plain HTTP to a registry that is not on loopback, or unset it.",
  });
}

function diffImageOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const check = checkImageReference(raw);
  if (!check.ok) {
    throw new ReplayError(
      "USAGE",
      `REPLAY_DIFF_IMAGE ${quotedReference(raw)} is not an image reference: ${check.problem}.`,
      {
        hint: "Unset it for replay-diffoscope:bookworm, or name an image such as my-diffoscope:bookworm.",
      },
    );
  }
  return raw;
}

function diffTimeoutOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1 || value > 86_400) {
    throw new ReplayError(
      "USAGE",
      `REPLAY_DIFF_TIMEOUT_S "${raw}" is not a whole number of seconds from 1 to 86400.`,
      {
        hint: "Set it to e.g. 600, or unset it for the default (180).",
      },
    );
  }
  return value;
}

function hostMountsOf(raw: string | undefined, dockerHost: string | undefined): boolean {
  const value = (raw ?? "auto").toLowerCase();
  if (value === "off") return false;
  if (value !== "auto") {
    throw new ReplayError("USAGE", `REPLAY_HOST_MOUNTS "${raw ?? ""}" is neither "auto" nor "off".`, {
      hint: "Unset it (auto: bind mounts when the Docker engine is on this host), or set it to off.",
    });
  }
  return dockerHost === undefined || dockerHost.startsWith("unix://");
}

export function resolveSettings(
  flags: SettingsFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Settings {
  const rawUrl = nonEmpty(flags.db) ?? nonEmpty(env.DATABASE_URL);
  let databaseUrl: string | null = null;
  if (rawUrl !== undefined) {
    const parsed = databaseUrlSchema.safeParse(rawUrl);
    if (!parsed.success) {
      throw new ReplayError(
        "USAGE",
        `The registry URL "${redactDatabaseUrl(rawUrl)}" ${parsed.error.issues[0]?.message ?? "is invalid"}.`,
        {
          hint: "Use e.g. postgres:///registry?host=/var/run/postgresql&user=root, or unset DATABASE_URL for the embedded registry.",
        },
      );
    }
    databaseUrl = parsed.data;
  }
  const home = path.resolve(cwd, nonEmpty(flags.home) ?? nonEmpty(env.REPLAY_HOME) ?? ".replay");
  const dockerHost = nonEmpty(env.DOCKER_HOST);
  return {
    databaseUrl,
    home,
    embeddedDir: path.join(home, "registry"),
    blobRoot: path.resolve(
      cwd,
      nonEmpty(flags.blobs) ?? nonEmpty(env.REPLAY_BLOBS) ?? path.join(home, "blobs"),
    ),
    dockerHost,
    wheelhouse: nonEmpty(env.REPLAY_WHEELHOUSE) ? path.resolve(cwd, env.REPLAY_WHEELHOUSE ?? "") : undefined,
    pipIndexUrl: nonEmpty(env.REPLAY_PIP_INDEX_URL),
    maxOutputBytes: maxOutputBytesOf(nonEmpty(env.REPLAY_MAX_OUTPUT_BYTES)),
    hostMounts: hostMountsOf(nonEmpty(env.REPLAY_HOST_MOUNTS), dockerHost),
    imageRegistry: ((raw) => (raw === undefined ? undefined : parseRegistryAddress(raw)))(
      nonEmpty(flags.imageRegistry) ?? nonEmpty(env.REPLAY_IMAGE_REGISTRY),
    ),
    imageRegistryInsecure: insecureOf(nonEmpty(env.REPLAY_IMAGE_REGISTRY_INSECURE)),
    pullPolicy: parsePullPolicy(nonEmpty(flags.pull) ?? nonEmpty(env.REPLAY_PULL)),
    diffImage: diffImageOf(nonEmpty(env.REPLAY_DIFF_IMAGE)),
    diffTimeoutS: diffTimeoutOf(nonEmpty(env.REPLAY_DIFF_TIMEOUT_S)),
  };
}
