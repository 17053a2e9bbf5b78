/**
 * The built-in diff, for when diffoscope cannot run (no image, a crash, a timeout): sizes, the
 * first differing byte, and a line-aware unified diff when both sides are text.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createTwoFilesPatch } from "diff";
import { DEFAULT_DIFF_LIMITS } from "./diff-limits.js";
import type { DiffReport, DiffRequest, PayloadDiffer } from "./payload-differ.js";
import { cutText } from "./report-bounds.js";
import { describeLineChanges, lineChanges, parseHunks } from "./unified-diff.js";

/** Texts larger than this get sizes and the first differing byte, not a line diff. */
const MAX_TEXT_DIFF_BYTES = 4 * 1024 * 1024;

export interface PayloadDiff {
  sizeLive: number;
  sizeReplayed: number;
  /** null when one side is a prefix of the other and sizes are equal (identical). */
  firstDifferingByte: number | null;
  unified: string | null;
  /** The report written to <out>/diffs/<step>.txt. */
  text: string;
  /** One line: which lines differ, or from which byte. */
  explanation: string;
}

async function firstDifference(a: string, b: string): Promise<number | null> {
  const left = createReadStream(a, { highWaterMark: 1 << 16 })[Symbol.asyncIterator]();
  const right = createReadStream(b, { highWaterMark: 1 << 16 })[Symbol.asyncIterator]();
  let offset = 0;
  let bufA: Buffer = Buffer.alloc(0);
  let bufB: Buffer = Buffer.alloc(0);
  let doneA = false;
  let doneB = false;
  try {
    for (;;) {
      if (bufA.length === 0 && !doneA) {
        const next = await left.next();
        if (next.done === true) doneA = true;
        else bufA = next.value as Buffer;
      }
      if (bufB.length === 0 && !doneB) {
        const next = await right.next();
        if (next.done === true) doneB = true;
        else bufB = next.value as Buffer;
      }
      if (bufA.length === 0 || bufB.length === 0) {
        return bufA.length === 0 && bufB.length === 0 ? null : offset;
      }
      const n = Math.min(bufA.length, bufB.length);
      for (let i = 0; i < n; i++) if (bufA[i] !== bufB[i]) return offset + i;
      offset += n;
      bufA = bufA.subarray(n);
      bufB = bufB.subarray(n);
    }
  } finally {
    await left.return?.();
    await right.return?.();
  }
}

function asText(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) ? text : null;
}

export async function diffPayloads(
  liveFile: string,
  replayedFile: string,
  label: string,
): Promise<PayloadDiff> {
  const [liveStat, replayedStat] = await Promise.all([stat(liveFile), stat(replayedFile)]);
  const firstDifferingByte = await firstDifference(liveFile, replayedFile);
  let unified: string | null = null;
  if (liveStat.size <= MAX_TEXT_DIFF_BYTES && replayedStat.size <= MAX_TEXT_DIFF_BYTES) {
    const [live, replayed] = await Promise.all([readFile(liveFile), readFile(replayedFile)]);
    const liveText = asText(live);
    const replayedText = asText(replayed);
    if (liveText !== null && replayedText !== null) {
      unified = createTwoFilesPatch(
        `live/${label}`,
        `replayed/${label}`,
        liveText,
        replayedText,
        undefined,
        undefined,
        {
          context: 3,
        },
      );
    }
  }
  const head = [
    `sizes: live ${liveStat.size} bytes, replayed ${replayedStat.size} bytes`,
    `first differing byte: ${firstDifferingByte === null ? "none" : `offset ${firstDifferingByte}`}`,
  ];
  const text = `${head.join("\n")}\n${unified ?? "(binary or too large for a line diff)\n"}`;
  const lines = unified === null ? undefined : describeLineChanges(lineChanges(parseHunks(unified)));
  const sizes =
    liveStat.size === replayedStat.size ? "" : `; sizes ${liveStat.size} and ${replayedStat.size} bytes`;
  const explanation =
    lines ??
    (firstDifferingByte === null
      ? "the bytes are the same"
      : `bytes differ from offset ${firstDifferingByte} (0x${firstDifferingByte.toString(16)})${sizes}`);
  return {
    sizeLive: liveStat.size,
    sizeReplayed: replayedStat.size,
    firstDifferingByte,
    unified,
    text,
    explanation,
  };
}

/** The built-in diff as a report: its text only, cut at the report bound. */
export async function builtinReport(
  request: Pick<DiffRequest, "recordedFile" | "replayedFile" | "label">,
  reportBytes = DEFAULT_DIFF_LIMITS.reportBytes,
): Promise<DiffReport> {
  const diff = await diffPayloads(request.recordedFile, request.replayedFile, request.label);
  const bytes = Buffer.from(diff.text, "utf8");
  const cut = bytes.length > reportBytes;
  const text = cut
    ? cutText({ content: bytes.subarray(0, reportBytes).toString("utf8"), cut }, reportBytes)
    : diff.text;
  return {
    tool: "builtin",
    explanation: diff.explanation,
    text,
    html: null,
    json: null,
    truncated: cut,
    warnings: [],
  };
}

/** The built-in diff alone: what a replay uses when no diffoscope is configured. */
export const builtinDiffer: PayloadDiffer = { diff: (request) => builtinReport(request) };
