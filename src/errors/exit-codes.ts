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
  // verify-attestation and signing keys (src/evidence).
  attestationMalformed: 10,
  signatureInvalid: 11,
  unknownKey: 12,
  digestMismatch: 13,
  signingKey: 14,
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
    case "ATTESTATION_MALFORMED":
      return EXIT.attestationMalformed;
    case "SIGNATURE_INVALID":
      return EXIT.signatureInvalid;
    case "UNKNOWN_KEY":
      return EXIT.unknownKey;
    case "DIGEST_MISMATCH":
      return EXIT.digestMismatch;
    case "SIGNING_KEY":
      return EXIT.signingKey;
  }
}

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The one table of exit codes: the README's, `replay-runner --help`'s, and each command's share of it. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  [EXIT.ok]: "success (rerun: every step reproduced byte for byte)",
  [EXIT.notReproduced]:
    "rerun finished, but a step mismatched, failed or was unreplayable;\n       verify: a selected target did not reproduce (or was left out);\n       run: the step being recorded failed (nothing was recorded)",
  [EXIT.usage]: "bad usage, or an unknown artifact/step/replay id",
  [EXIT.infrastructure]:
    "infrastructure unavailable: Docker, the database, an image build,\n       or (images push/pull) the image registry",
  [EXIT.registryData]: "the registry's rows do not form a replayable chain (cycle, dangling id, ...)",
  [EXIT.integrity]: "a frozen input or payload is missing or corrupted (rerun: --strict)",
  [EXIT.output]:
    "the output folder (or another folder replay-runner makes) cannot be written,\n       or --out holds another replay (--force replaces it)",
  [EXIT.attestationMalformed]: "verify-attestation: the file is not a DSSE envelope of an in-toto statement",
  [EXIT.signatureInvalid]:
    "verify-attestation: the signature does not verify (statement or signature altered)",
  [EXIT.unknownKey]: "verify-attestation: signed by another key than --key",
  [EXIT.digestMismatch]: "verify-attestation: a digest differs from the registry or the blob store",
  [EXIT.signingKey]: "a signing or public key file cannot be used (permissions, kind, type)",
  [EXIT.internal]: "internal error (a bug: please report it with --debug output)",
  [EXIT.sigint]: "interrupted by SIGINT (Ctrl-C)",
  [EXIT.sigterm]: "interrupted by SIGTERM",
};

/** The "Exit codes:" help section listing `codes` (in the table's order). */
export function exitCodesHelp(codes: readonly ExitCode[]): string {
  const lines = (Object.values(EXIT) as ExitCode[])
    .filter((code) => codes.includes(code))
    .map((code) => `  ${String(code).padEnd(5)}${EXIT_CODE_MEANINGS[code]}`);
  return `Exit codes:\n${lines.join("\n")}`;
}

/** Every code: `replay-runner --help`. */
export const EXIT_CODES_HELP = exitCodesHelp(Object.values(EXIT));
