/** Keeps the last bytes of a stream (the step's stderr) without holding the rest. */
import type { Readable } from "node:stream";

export const STDERR_TAIL_BYTES = 4096;

export class TailBuffer {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly limit: number = STDERR_TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    while (this.chunks.length > 1 && this.length - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.length -= this.chunks.shift()?.length ?? 0;
    }
  }

  /** The tail as text; a UTF-8 sequence cut at the front shows as U+FFFD. */
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString("utf8");
  }
}

/** Collects the tail of `stream`; `done` settles when it ends, errors, or closes. */
export function collectTail(
  stream: Readable,
  limit = STDERR_TAIL_BYTES,
): { tail: TailBuffer; done: Promise<void> } {
  const tail = new TailBuffer(limit);
  stream.on("data", (chunk: Buffer) => {
    tail.push(chunk);
  });
  const done = new Promise<void>((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", () => {
      resolve();
    });
  });
  return { tail, done };
}
