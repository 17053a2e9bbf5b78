import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { HashingStream, type HashedFile } from "../hashing/index.js";

/** Copies a file while hashing the bytes written, in one streaming pass. */
export async function copyHashed(from: string, to: string, signal?: AbortSignal): Promise<HashedFile> {
  const hasher = new HashingStream();
  await pipeline(createReadStream(from, { highWaterMark: 1 << 20 }), hasher, createWriteStream(to), {
    signal,
  });
  return { contentHash: hasher.contentHash, size: hasher.size };
}
