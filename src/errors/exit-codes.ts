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

export const EXIT_CODES_HELP = `Exit codes:
  0    success (rerun: every step reproduced byte for byte)
  1    rerun finished, but a step mismatched, failed or was unreplayable;
       run: the step being recorded failed (nothing was recorded)
  2    bad usage, or an unknown artifact/step/replay id
  3    infrastructure unavailable: Docker, the database, or an image build
  4    the registry's rows do not form a replayable chain (cycle, dangling id, ...)
  5    --strict: a frozen input is missing or corrupted
  6    the output folder cannot be written
  10   verify-attestation: the file is not a DSSE envelope of an in-toto statement
  11   verify-attestation: the signature does not verify (statement or signature altered)
  12   verify-attestation: signed by another key than --key
  13   verify-attestation: a digest differs from the registry or the blob store
  14   a signing or public key file cannot be used (permissions, kind, type)
  70   internal error (a bug: please report it with --debug output)
  130  interrupted by SIGINT; 143 by SIGTERM`;
