/**
 * The diff's container packs its reports into /out/output as a tar. A container that read hostile
 * bytes made it, so it is read as hostile input: only the entries we asked for, regular files only,
 * each kept up to its bound (the rest read and dropped, counted), the whole archive bounded by the
 * executor's output limit before it got here. A report over its bound is cut where it says so.
 */
import { createReadStream } from "node:fs";
import tar from "tar-stream";
import { REPORT_ENTRIES } from "./diffoscope-wrapper.js";

export interface PackedReports {
  status: string | undefined;
  text: BoundedReport | undefined;
  html: BoundedReport | undefined;
  json: BoundedReport | undefined;
}

export interface BoundedReport {
  /** At most the bound, as UTF-8 (invalid sequences replaced). */
  content: string;
  /** The entry was longer than the bound. */
  cut: boolean;
}

/** The status entry is a few short lines. */
const STATUS_BYTES = 4096;

async function readBounded(
  entry: AsyncIterable<Buffer>,
  bound: number,
): Promise<{ bytes: Buffer; cut: boolean }> {
  const kept: Buffer[] = [];
  let size = 0;
  let cut = false;
  for await (const chunk of entry) {
    if (size < bound) kept.push(chunk.subarray(0, bound - size));
    size += chunk.length;
    if (size > bound) cut = true;
  }
  return { bytes: Buffer.concat(kept), cut };
}

/** Reads the reports out of the packed tar at `file`; entries beyond those asked for are skipped. */
export async function readPackedReports(file: string, reportBytes: number): Promise<PackedReports> {
  const found: PackedReports = { status: undefined, text: undefined, html: undefined, json: undefined };
  const extract = tar.extract();
  const source = createReadStream(file);
  source.on("error", (error) => {
    extract.destroy(error);
  });
  source.pipe(extract);
  const keys = new Map<string, keyof PackedReports>(
    Object.entries(REPORT_ENTRIES).map(([key, name]) => [name, key as keyof PackedReports]),
  );
  try {
    for await (const entry of extract) {
      const key = keys.get(entry.header.name.replace(/^\.\//, ""));
      const regular = entry.header.type === "file" || entry.header.type === "contiguous-file";
      // A second copy of a name, a link, a device: not ours to read.
      if (key === undefined || !regular || found[key] !== undefined) {
        entry.resume();
        continue;
      }
      const { bytes, cut } = await readBounded(
        entry as AsyncIterable<Buffer>,
        key === "status" ? STATUS_BYTES : reportBytes,
      );
      if (key === "status") found.status = bytes.toString("utf8");
      else found[key] = { content: bytes.toString("utf8"), cut };
    }
  } finally {
    source.destroy();
    extract.destroy();
  }
  return found;
}

/** The note a cut report ends with, in its own format. */
export function cutNote(bound: number): string {
  return `replay-runner cut this report at ${bound} bytes: the rest is not shown.`;
}

export function cutText(report: BoundedReport, bound: number): string {
  return report.cut ? `${report.content}\n[${cutNote(bound)}]\n` : report.content;
}

/**
 * HTML cut at the last line break before the bound (diffoscope writes a row per line, so a tag
 * is rarely split), then the note. The page shows it in a sandbox whatever markup is left open.
 */
export function cutHtml(report: BoundedReport, bound: number): string {
  if (!report.cut) return report.content;
  const lastBreak = report.content.lastIndexOf("\n");
  const head = lastBreak > 0 ? report.content.slice(0, lastBreak) : report.content;
  return `${head}\n<hr><p><strong>${cutNote(bound)}</strong></p>\n`;
}

/** Whether diffoscope itself stopped writing a report at its limit. */
export function diffoscopeCut(text: string | undefined, html: string | undefined): boolean {
  return (
    (text?.trimEnd().endsWith("Max text output size reached.") ?? false) ||
    (html?.includes("Max HTML report size reached") ?? false) ||
    (html?.includes('<tr class="error"><td colspan="4">\nMax ') ?? false)
  );
}
