/**
 * Payloads for a step's /in and /code that are not files: params.json, small test inputs.
 * Kept apart from the archive code so that host mounts never load tar-stream.
 */
import { Readable } from "node:stream";
import type { PayloadSource } from "./types.js";

/** The contract's rule for names under /in and /code: a plain file name. */
export function isPlainFileName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

/** A payload held in memory (params.json, small test inputs). */
export function bytesSource(name: string, bytes: Uint8Array): PayloadSource {
  // A fresh stream per open: the archive may be built more than once.
  return { name, size: bytes.byteLength, open: () => Readable.from([Buffer.from(bytes)]) };
}
