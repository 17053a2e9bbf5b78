/**
 * Where replay-runner reads and writes: from the contract's environment variables, with
 * flags of the same meaning taking precedence.
 */
import path from "node:path";
import { z } from "zod";
import { ReplayError } from "../errors/index.js";

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
  /** REPLAY_DIFF_IMAGE: the image `--diff` runs diffoscope in (default replay-diffoscope:bookworm). */
  diffImage: string | undefined;
  /** REPLAY_DIFF_TIMEOUT_S: the wall clock of one diff (default src/diagnose/diff-limits.ts). */
  diffTimeoutS: number | undefined;
}

export interface SettingsFlags {
  db?: string | undefined;
  blobs?: string | undefined;
  home?: string | undefined;
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

/** A Docker image reference: what `docker image inspect` accepts, nothing a shell could misread. */
const IMAGE_REF = /^[a-z0-9][a-z0-9._/-]{0,200}(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[0-9a-f]{64})?$/;

function diffImageOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!IMAGE_REF.test(raw)) {
    throw new ReplayError("USAGE", `REPLAY_DIFF_IMAGE "${raw}" is not an image reference.`, {
      hint: "Unset it for replay-diffoscope:bookworm, or name an image such as my-diffoscope:bookworm.",
    });
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
        `The registry URL "${rawUrl}" ${parsed.error.issues[0]?.message ?? "is invalid"}.`,
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
    diffImage: diffImageOf(nonEmpty(env.REPLAY_DIFF_IMAGE)),
    diffTimeoutS: diffTimeoutOf(nonEmpty(env.REPLAY_DIFF_TIMEOUT_S)),
  };
}
