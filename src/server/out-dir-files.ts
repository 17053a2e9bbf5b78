/**
 * Files of a served replay's output folder, named by a manifest row (`payload`, `diff`): data
 * from the database, so a path is only followed when it stays inside that replay's own folder,
 * symbolic links resolved first, and ends at a regular file.
 */
import { open, realpath, type FileHandle } from "node:fs/promises";
import path from "node:path";

function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

export interface OpenedFile {
  handle: FileHandle;
  size: number;
}

/** The open file, or null when it is missing, outside `outDir`, or not a regular file. */
export async function openInsideOutDir(outDir: string, relative: string): Promise<OpenedFile | null> {
  if (relative === "" || relative.includes("\0") || path.isAbsolute(relative)) return null;
  let file: string;
  let root: string;
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
  const info = await handle.stat().catch(() => null);
  if (info?.isFile() !== true) {
    await handle.close();
    return null;
  }
  return { handle, size: info.size };
}
