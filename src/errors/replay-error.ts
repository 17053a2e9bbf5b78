/**
 * Every failure replay-runner reports to a user is a ReplayError: a stable `code` that
 * callers (CLI, HTTP) map to exit codes and statuses, a message that says what went wrong,
 * a `hint` that says what to do, and structured `details` for --json and the API.
 */
export type ReplayErrorCode =
  | "USAGE" // bad flags or arguments
  | "NOT_FOUND" // unknown artifact, step or replay id
  | "REGISTRY_DATA" // the registry's rows cannot describe a replayable chain
  | "INTEGRITY" // a frozen input's bytes do not match its recorded hash (--strict)
  | "DATABASE_UNAVAILABLE"
  | "DOCKER_UNAVAILABLE"
  | "IMAGE_BUILD" // an environment image could not be built
  | "IMAGE_REGISTRY" // the OCI registry of shared images is unreachable, refuses, or serves an untrusted image
  | "OUTPUT" // the output folder cannot be written
  | "STEP_FAILED" // `replay-runner run`: the step being recorded failed (non-zero exit, timeout, ...)
  | "INTERRUPTED"
  | "INTERNAL"
  // Evidence (src/evidence): signing keys and verify-attestation's failure kinds.
  | "SIGNING_KEY" // a key file that cannot be used: permissions, wrong kind, unsupported type
  | "ATTESTATION_MALFORMED" // not a DSSE envelope around an in-toto statement of ours
  | "SIGNATURE_INVALID" // the signature does not verify over the envelope's payload
  | "UNKNOWN_KEY" // the envelope was signed by another key than the one given
  | "DIGEST_MISMATCH"; // a subject's digest differs from the registry or the blob store

const CODES: Record<ReplayErrorCode, true> = {
  USAGE: true,
  NOT_FOUND: true,
  REGISTRY_DATA: true,
  INTEGRITY: true,
  DATABASE_UNAVAILABLE: true,
  DOCKER_UNAVAILABLE: true,
  IMAGE_BUILD: true,
  OUTPUT: true,
  STEP_FAILED: true,
  INTERRUPTED: true,
  INTERNAL: true,
  SIGNING_KEY: true,
  ATTESTATION_MALFORMED: true,
  SIGNATURE_INVALID: true,
  UNKNOWN_KEY: true,
  DIGEST_MISMATCH: true,
  IMAGE_REGISTRY: true,
};

/** For codes that crossed a process boundary (the shared embedded registry's answers). */
export function isReplayErrorCode(value: string): value is ReplayErrorCode {
  return Object.hasOwn(CODES, value);
}

export interface ReplayErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ReplayError extends Error {
  readonly code: ReplayErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ReplayErrorCode, message: string, options: ReplayErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "ReplayError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

export function isReplayError(error: unknown): error is ReplayError {
  return error instanceof ReplayError;
}

/** The message of any thrown value, for wrapping library errors once at a boundary. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
