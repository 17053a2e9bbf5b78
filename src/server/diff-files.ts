/**
 * Reads a mismatch's reports (`<out_dir>/<manifest row's diff.files.*>`) for the API and the
 * replay page. The relative paths come from a manifest row (database data): only a regular file
 * inside that replay's own output folder is ever read (out-dir-files.ts).
 */
import { openInsideOutDir } from "./out-dir-files.js";
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
