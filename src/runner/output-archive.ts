/**
 * Reads the tar the engine returns for /out/output. The step wrote it, so it is hostile input:
 * exactly one regular file named `output`, no absolute or `..` names, no links, devices or
 * directories (but the top), no duplicates, nothing over the size limit. The file's bytes
 * stream to disk through SHA-256 as they arrive; the archive is never held in memory.
 */
import { rm } from "node:fs/promises";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { OutputRuleError, writeHashed, type ExtractOptions, type ExtractedOutput } from "./output-file.js";

const OUTPUT_NAME = "output";

function describe(type: string | null | undefined): string {
  switch (type) {
    case "symlink":
      return "a symbolic link";
    case "link":
      return "a hard link";
    case "directory":
      return "a directory";
    case "character-device":
    case "block-device":
      return "a device";
    case "fifo":
      return "a FIFO";
    default:
      return `an entry of type ${type ?? "unknown"}`;
  }
}

/** Throws OutputRuleError when the entry is anything but the one allowed file (or the top directory). */
function checkEntry(header: tar.Header, maxOutputBytes: number): "top" | "file" {
  const name = header.name;
  if (name.startsWith("/"))
    throw new OutputRuleError(`the output archive holds an absolute path (${JSON.stringify(name)})`);
  if (name.split("/").includes(".."))
    throw new OutputRuleError(`the output archive holds a path with ".." (${JSON.stringify(name)})`);
  if (header.type === "directory" && (name === "./" || name === ".")) return "top";
  const bare = name.replace(/^\.\//, "").replace(/\/+$/, "");
  if (bare !== OUTPUT_NAME) {
    throw new OutputRuleError(
      `/out/output must be one regular file; the archive also holds ${JSON.stringify(name)}`,
    );
  }
  if (header.type !== "file" && header.type !== "contiguous-file") {
    const target = header.linkname ? ` to ${JSON.stringify(header.linkname)}` : "";
    throw new OutputRuleError(`/out/output is ${describe(header.type)}${target}, not a regular file`);
  }
  const size = header.size;
  if (size > maxOutputBytes) {
    throw new OutputRuleError(`/out/output is ${size} bytes, over the limit of ${maxOutputBytes} bytes`);
  }
  return "file";
}

/**
 * Extracts the single `output` file of `archive` to `options.outputFile`, hashing it on the way.
 * On any error the partial file is removed and the archive stream destroyed.
 */
export async function extractOutput(archive: Readable, options: ExtractOptions): Promise<ExtractedOutput> {
  const extract = tar.extract();
  archive.on("error", (error) => {
    extract.destroy(error);
  });
  archive.pipe(extract);
  let result: ExtractedOutput | undefined;
  let wroteFile = false;
  try {
    for await (const entry of extract) {
      const kind = checkEntry(entry.header, options.maxOutputBytes);
      if (kind === "top") {
        entry.resume();
        continue;
      }
      if (result !== undefined || wroteFile)
        throw new OutputRuleError("the output archive holds /out/output twice");
      wroteFile = true;
      result = await writeHashed(entry as AsyncIterable<Buffer>, options);
    }
    if (result === undefined) throw new OutputRuleError("the step wrote no /out/output");
    return result;
  } catch (error) {
    if (wroteFile) await rm(options.outputFile, { force: true });
    if (error instanceof OutputRuleError) throw error;
    if (options.signal?.aborted === true) throw error;
    throw new OutputRuleError(`the output archive is not a valid tar stream (${(error as Error).message})`);
  } finally {
    extract.destroy();
    archive.destroy();
  }
}
