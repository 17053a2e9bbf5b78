import type { ReplayErrorCode } from "./replay-error.js";

/** Exit codes, documented in the README and in `replay-runner --help`. */
export const EXIT = {
  ok: 0,
  notReproduced: 1,
  usage: 2,
  infrastructure: 3,
  registryData: 4,
  integrity: 5,
  output: 6,
  internal: 70,
  sigint: 130,
  sigterm: 143,
} as const;

export function exitCodeFor(code: ReplayErrorCode): number {
  switch (code) {
    case "USAGE":
    case "NOT_FOUND":
      return EXIT.usage;
    case "DATABASE_UNAVAILABLE":
    case "DOCKER_UNAVAILABLE":
    case "IMAGE_BUILD":
    case "IMAGE_REGISTRY":
      return EXIT.infrastructure;
    case "REGISTRY_DATA":
      return EXIT.registryData;
    case "INTEGRITY":
      return EXIT.integrity;
    case "OUTPUT":
      return EXIT.output;
    case "STEP_FAILED":
      return EXIT.notReproduced;
    case "INTERRUPTED":
      return EXIT.sigint;
    case "INTERNAL":
      return EXIT.internal;
  }
}

export const EXIT_CODES_HELP = `Exit codes:
  0    success (rerun: every step reproduced byte for byte)
  1    rerun finished, but a step mismatched, failed or was unreplayable;
       run: the step being recorded failed (nothing was recorded)
  2    bad usage, or an unknown artifact/step/replay id
  3    infrastructure unavailable: Docker, the database, an image build,
       or (images push/pull) the image registry
  4    the registry's rows do not form a replayable chain (cycle, dangling id, ...)
  5    --strict: a frozen input is missing or corrupted
  6    the output folder cannot be written
  70   internal error (a bug: please report it with --debug output)
  130  interrupted by SIGINT; 143 by SIGTERM`;
