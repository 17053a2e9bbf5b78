/**
 * Reads a mismatch's diff (`<out_dir>/<manifest row's diff>`) for the API and the replay page;
 * only a regular file inside that replay's own output folder (out-dir-files.ts).
 */
import { openInsideOutDir } from "./out-dir-files.js";

export interface DiffFile {
  text: string;
  truncated: boolean;
}

export async function readDiffFile(
  outDir: string,
  relative: string,
  maxBytes = 256 * 1024,
): Promise<DiffFile | null> {
  const opened = await openInsideOutDir(outDir, relative);
  if (opened === null) return null;
  const { handle, size } = opened;
  try {
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return { text: buffer.subarray(0, bytesRead).toString("utf8"), truncated: size > maxBytes };
  } finally {
    await handle.close();
  }
}
