import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

/** The bytes that came through do not hash to what they were supposed to. */
export class HashMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the bytes hash to ${actual}, not ${expected}`);
    this.name = "HashMismatch";
  }
}

/**
 * Passes bytes through but holds the last chunk back until the whole stream is known to hash
 * to `expected`: a reader (a download) never receives all of a payload whose bytes changed.
 */
export class VerifyingStream extends Transform {
  private readonly hash = createHash("sha256");
  private held: Buffer | undefined;

  /** `mismatch`: the error the stream fails with (default HashMismatch). */
  constructor(
    private readonly expected: string,
    private readonly mismatch: (actual: string) => Error = (actual) => new HashMismatch(expected, actual),
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    done(null, previous);
  }

  override _flush(done: TransformCallback): void {
    const actual = `sha256:${this.hash.digest("hex")}`;
    if (actual !== this.expected) {
      done(this.mismatch(actual));
      return;
    }
    done(null, this.held);
  }
}
