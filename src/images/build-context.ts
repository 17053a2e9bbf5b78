/**
 * The build context of an environment image, as a tar stream made on the fly: Dockerfile,
 * requirements.lock and the wheels the lock pins. No temporary folder; wheels stream from disk.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { bytesSource, packFiles, type PayloadSource } from "../runner/index.js";
import type { WheelFile } from "./wheelhouse.js";

export function envBuildContext(dockerfile: string, lock: string, wheels: WheelFile[]): Promise<Readable> {
  const files: PayloadSource[] = [
    bytesSource("Dockerfile", Buffer.from(dockerfile, "utf8")),
    bytesSource("requirements.lock", Buffer.from(lock, "utf8")),
    ...wheels.map((w) => ({ name: `wheels/${w.name}`, size: w.size, open: () => createReadStream(w.path) })),
  ];
  // A fixed mtime: the context does not depend on when the wheels were downloaded.
  return packFiles(files, 0);
}
