/**
 * Reads a mismatch's reports (`<out_dir>/<manifest row's diff.files.*>`) for the API and the
 * replay page. The relative paths come from a manifest row (database data): only a regular file
 * inside that replay's own output folder is ever read, symbolic links resolved first.
 */
import { open, realpath } from "node:fs/promises";
import path from "node:path";
import type { StepDiffView } from "./schemas.js";

export type DiffKind = keyof StepDiffView["files"];

/**
 * The policy of a served diffoscope HTML report: a sandbox without scripts or same-origin (an
 * opaque origin that reaches nothing of ours), nothing fetched but its inline styles and data:
 * images, framed only by our own pages.
 */
export const DIFF_REPORT_CSP =
  "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/** Reports are cut at 8 MiB when written (src/diagnose/diff-limits.ts); this leaves room for the note. */
const SERVED_BYTES = 9 * 1024 * 1024;

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

/** One of a row's report files, or null when the row has none of that kind (or it is gone). */
export async function readStepDiffFile(
  outDir: string,
  diff: StepDiffView,
  kind: DiffKind,
  maxBytes = SERVED_BYTES,
): Promise<DiffFile | null> {
  const relative = diff.files[kind];
  if (relative === null || relative === "") return null;
  return readDiffFile(outDir, relative, maxBytes);
}
