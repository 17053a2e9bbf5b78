/** Media types and file name extensions: `add` guesses the one, downloads name files with the other. */
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

/** The extension (with its dot) of a media type's files, "" when unknown. */
export function extensionFor(mediaType: string | null): string {
  if (mediaType === null) return "";
  const wanted = mediaType.toLowerCase();
  return Object.entries(BY_EXTENSION).find(([, type]) => type === wanted)?.[0] ?? "";
}
