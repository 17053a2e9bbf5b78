/**
 * Runs diffoscope on two payloads through the runner's StepExecutor, so that its container is
 * hardened exactly as a step's is, by construction (container-spec.ts: no network, read-only
 * root, uid 65534, no capabilities, pids, memory and file-size limits, a wall clock): both payloads
 * read-only under /in, the wrapper script under /code, the packed reports out as /out/output.
 */
import { createReadStream } from "node:fs";
import { open, rm, stat } from "node:fs/promises";
import { bytesSource, type PayloadSource, type StepExecutor } from "../runner/index.js";
import { containerTimeoutMs, type DiffLimits } from "./diff-limits.js";
import type { DiffoscopeImage } from "./diffoscope-image.js";
import type { InputNames } from "./diff-explanation.js";
import {
  WRAPPER_NAME,
  WRAPPER_SCRIPT,
  parseWrapperStatus,
  wrapperEnv,
  type WrapperStatus,
} from "./diffoscope-wrapper.js";
import type { DiffRequest } from "./payload-differ.js";
import { readPackedReports, type PackedReports } from "./report-bounds.js";

export type DiffoscopeOutcome =
  | { kind: "ran"; status: WrapperStatus; reports: PackedReports; stderrTail: string; names: InputNames }
  | { kind: "failed"; reason: string };

/** How much of a payload is looked at to tell XML (an SVG) from anything else. */
const SNIFF_BYTES = 512;

/**
 * diffoscope reads XML as XML (pretty-printed, a line diff) only when file(1) says "XML ...
 * document" or the name ends in .xml; file(1) calls an SVG an image, which gets a hexdump.
 */
async function looksLikeXml(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    const head = buffer
      .subarray(0, bytesRead)
      .toString("utf8")
      .replace(/^\ufeff/, "")
      .trimStart();
    return /^<\?xml[\s?]/.test(head) || /^<svg[\s>]/.test(head);
  } finally {
    await handle.close();
  }
}

async function inputNames(request: DiffRequest): Promise<InputNames> {
  const [a, b] = await Promise.all([looksLikeXml(request.recordedFile), looksLikeXml(request.replayedFile)]);
  const suffix = a && b ? ".xml" : "";
  return { recorded: `recorded${suffix}`, replayed: `replayed${suffix}` };
}

async function fileSource(name: string, file: string): Promise<PayloadSource> {
  const { size } = await stat(file);
  return { name, size, file, open: () => createReadStream(file, { highWaterMark: 1 << 20 }) };
}

export async function runDiffoscope(
  executor: StepExecutor,
  image: DiffoscopeImage,
  request: DiffRequest,
  limits: DiffLimits,
): Promise<DiffoscopeOutcome> {
  const names = await inputNames(request);
  const inputs = await Promise.all([
    fileSource(names.recorded, request.recordedFile),
    fileSource(names.replayed, request.replayedFile),
  ]);
  try {
    const result = await executor.runStep({
      stepId: `diff:${request.stepId}`,
      runId: request.runId,
      image: image.id,
      command: ["sh", `/code/${WRAPPER_NAME}`, names.recorded, names.replayed],
      inputs,
      params: Buffer.from("{}\n"),
      code: bytesSource(WRAPPER_NAME, Buffer.from(WRAPPER_SCRIPT, "utf8")),
      env: wrapperEnv(limits),
      timeoutMs: containerTimeoutMs(limits),
      memoryBytes: limits.memoryBytes,
      outputFile: request.scratchFile,
      maxOutputBytes: limits.scratchBytes,
      signal: request.signal,
    });
    if (result.status === "failed") {
      const why =
        result.failure === "timeout"
          ? `its container ran longer than ${containerTimeoutMs(limits) / 1000} s and was killed`
          : result.failure === "oom"
            ? `its container ran out of memory (limit ${Math.round(limits.memoryBytes / 2 ** 20)} MiB)`
            : result.reason;
      return { kind: "failed", reason: why };
    }
    const reports = await readPackedReports(request.scratchFile, limits.reportBytes);
    const status = parseWrapperStatus(reports.status ?? "");
    if (status === undefined) return { kind: "failed", reason: "its container packed no status" };
    return { kind: "ran", status, reports, stderrTail: result.stderrTail, names };
  } finally {
    await rm(request.scratchFile, { force: true });
  }
}
