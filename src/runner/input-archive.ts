/**
 * The tar streams put into /in and /code before the step starts. Files are root-owned and
 * 0444, so the step (65534) reads them and cannot change them. The one directory entry is the
 * top (`./`): root-owned 0755 with the same fixed mtime, so that extracting does not stamp the
 * host's clock on /in and /code. Payloads stream from their source; nothing is buffered whole.
 */
import type { Readable } from "node:stream";
import tar from "tar-stream";
import type { PayloadSource } from "./types.js";

const FILE_MODE = 0o444;
const DIR_MODE = 0o755;

/**
 * Adds one root-owned entry; resolves when tar-stream has taken all of it. For a file, its
 * bytes are piped from `source`; a source error destroys the entry and rejects.
 */
function addEntry(
  pack: tar.Pack,
  header: { name: string; type: "file" | "directory"; size?: number; mode: number; mtime: Date },
  source?: Readable,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = pack.entry(
      { ...header, uid: 0, gid: 0, uname: "root", gname: "root" },
      (error?: Error | null) => {
        if (error) reject(error);
        else resolve();
      },
    );
    if (source === undefined) return;
    source.on("error", (error) => {
      entry.destroy(error);
      reject(error);
    });
    source.pipe(entry);
  });
}

/**
 * A tar stream of `files` as root-owned read-only files with the given mtime (Unix seconds).
 * An error of a source, or a size that does not match, destroys the returned stream.
 */
export function packFiles(files: PayloadSource[], mtimeSeconds: number): Readable {
  const pack = tar.pack();
  const mtime = new Date(mtimeSeconds * 1000);
  void (async () => {
    await addEntry(pack, { name: "./", type: "directory", mode: DIR_MODE, mtime });
    for (const file of files) {
      await addEntry(
        pack,
        { name: file.name, type: "file", size: file.size, mode: FILE_MODE, mtime },
        file.open(),
      );
    }
    pack.finalize();
  })().catch((error: unknown) => {
    pack.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return pack as unknown as Readable;
}
