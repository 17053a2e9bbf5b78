/**
 * packFiles (input-archive.ts), loaded on first use: tar-stream is needed only by archives and
 * image builds, and a replay through host mounts should not pay for loading it.
 */
import type { Readable } from "node:stream";
import type { PayloadSource } from "./types.js";

export async function packFiles(files: PayloadSource[], mtimeSeconds: number): Promise<Readable> {
  const { packFiles: pack } = await import("./input-archive.js");
  return pack(files, mtimeSeconds);
}
