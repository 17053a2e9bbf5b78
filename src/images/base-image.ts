/**
 * replay-base:bookworm is built here, never pulled (there is no registry). On first use the
 * resolver runs scripts/build-base-image.sh (mmdebstrap, ~20 s), saying so on stderr.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ReplayError } from "../errors/index.js";
import type { DockerEngine, ImageInfo } from "../runner/index.js";
import { BASE_IMAGE } from "./types.js";

export const BASE_IMAGE_HINT = "sudo bash scripts/setup-host.sh base-image";

/** Works from src/images (tests) and dist/images (the CLI): both are two levels below the package. */
export const BUILD_BASE_IMAGE_SCRIPT = fileURLToPath(
  new URL("../../scripts/build-base-image.sh", import.meta.url),
);

export interface BaseImageBuildOptions {
  log: (line: string) => void;
  script?: string | undefined;
  /** For tests: whether this process may run mmdebstrap (root, installed). */
  canBuild?: (() => boolean) | undefined;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(`${dir}/${command}`));
}

export function canBuildBaseImage(): boolean {
  return process.getuid?.() === 0 && onPath("mmdebstrap");
}

/** Runs one of scripts/build-*-image.sh for `tag`; a failure is an IMAGE_BUILD error with its last lines. */
export function runImageBuildScript(script: string, tag: string, hint = BASE_IMAGE_HINT): Promise<void> {
  return new Promise((resolve, reject) => {
    // argv, never a shell string; the script's own progress goes to its stderr, kept for errors.
    execFile(
      "bash",
      [script, tag],
      { maxBuffer: 64 << 20, timeout: 30 * 60_000 },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve();
          return;
        }
        const tail = stderr
          .split("\n")
          .filter((l) => l.trim() !== "")
          .slice(-20)
          .join("\n");
        reject(
          new ReplayError(
            "IMAGE_BUILD",
            `Building ${tag} failed (${error.message.split("\n")[0] ?? ""}):\n${tail}`,
            {
              hint: `Run it by hand to see everything: ${hint}`,
              cause: error,
            },
          ),
        );
      },
    );
  });
}

/** The base image, built first when it is missing. */
export async function ensureBaseImage(
  engine: DockerEngine,
  options: BaseImageBuildOptions,
): Promise<ImageInfo & { built: boolean }> {
  const existing = await engine.inspectImage(BASE_IMAGE);
  if (existing !== null) return { ...existing, built: false };
  if (!(options.canBuild ?? canBuildBaseImage)()) {
    throw new ReplayError(
      "IMAGE_BUILD",
      `The base image ${BASE_IMAGE} is missing, and this process cannot build it (it needs root and mmdebstrap).`,
      { hint: BASE_IMAGE_HINT },
    );
  }
  options.log(
    `${BASE_IMAGE} is missing: building it offline from Debian's packages (mmdebstrap, about 20 s)...`,
  );
  await runImageBuildScript(options.script ?? BUILD_BASE_IMAGE_SCRIPT, BASE_IMAGE);
  const built = await engine.inspectImage(BASE_IMAGE);
  if (built === null) {
    throw new ReplayError(
      "IMAGE_BUILD",
      `scripts/build-base-image.sh succeeded but ${BASE_IMAGE} is not in the engine.`,
      {
        hint: BASE_IMAGE_HINT,
      },
    );
  }
  options.log(`${BASE_IMAGE} built (${built.id}).`);
  return { ...built, built: true };
}
