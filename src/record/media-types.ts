/** A media type guessed from a file name, for `add` when --media-type is not given. */
import path from "node:path";

const BY_EXTENSION: Readonly<Record<string, string>> = {
  ".csv": "text/csv",
  ".tsv": "text/tab-separated-values",
  ".txt": "text/plain",
  ".md": "text/markdown",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".pdf": "application/pdf",
  ".parquet": "application/vnd.apache.parquet",
};

/** null when unknown: a wrong guess recorded forever is worse than none. */
export function mediaTypeFor(file: string): string | null {
  return BY_EXTENSION[path.extname(file).toLowerCase()] ?? null;
}
