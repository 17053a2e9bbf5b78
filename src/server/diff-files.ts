/**
 * Reads a mismatch's diff (`<out_dir>/<manifest row's diff>`) for the API and the replay page.
 * The relative path comes from a manifest row (database data): only a regular file inside that
 * replay's own output folder is ever read, symbolic links resolved first.
 */
import { open, realpath } from "node:fs/promises";
import path from "node:path";

export interface DiffFile {
  text: string;
  truncated: boolean;
}

function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

export async function readDiffFile(
  outDir: string,
  relative: string,
  maxBytes = 256 * 1024,
): Promise<DiffFile | null> {
  if (relative.includes("\0") || path.isAbsolute(relative)) return null;
  let root: string;
  let file: string;
  try {
    root = await realpath(outDir);
    const lexical = path.resolve(root, relative);
    if (!inside(root, lexical)) return null;
    file = await realpath(lexical);
  } catch {
    return null;
  }
  if (!inside(root, file)) return null;
  const handle = await open(file, "r").catch(() => null);
  if (handle === null) return null;
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    const length = Math.min(info.size, maxBytes);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return { text: buffer.subarray(0, bytesRead).toString("utf8"), truncated: info.size > maxBytes };
  } finally {
    await handle.close();
  }
}
