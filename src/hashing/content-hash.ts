import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

/** `sha256:` + 64 lowercase hex digits, the contract's content_hash. */
export const CONTENT_HASH_RE = /^sha256:[0-9a-f]{64}$/;

export function isContentHash(value: unknown): boolean {
  return typeof value === "string" && CONTENT_HASH_RE.test(value);
}

/** `sha256:` and the first 12 hex digits, for a terminal line; anything else is returned as is. */
export function shortContentHash(hash: string): string {
  return hash.startsWith("sha256:") && hash.length > 19 ? `${hash.slice(0, 19)}…` : hash;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function contentHashOf(data: string | Uint8Array): string {
  return `sha256:${sha256Hex(data)}`;
}

/** A pass-through stream that hashes and counts the bytes flowing through it. */
export class HashingStream extends Transform {
  private readonly hash = createHash("sha256");
  private count = 0;
  private digestValue: string | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.digestValue = `sha256:${this.hash.digest("hex")}`;
    done();
  }

  get size(): number {
    return this.count;
  }

  /** The content hash; only after the stream has ended. */
  get contentHash(): string {
    if (this.digestValue === undefined)
      throw new Error("HashingStream: digest read before the end of the stream");
    return this.digestValue;
  }
}
