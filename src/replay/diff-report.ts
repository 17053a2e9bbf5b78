/**
 * --diff: what differs between the live payload and the replayed one: sizes, the first
 * differing byte, and a line-aware unified diff when both sides are text.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createTwoFilesPatch } from "diff";

/** Texts larger than this get sizes and the first differing byte, not a line diff. */
const MAX_TEXT_DIFF_BYTES = 4 * 1024 * 1024;

export interface PayloadDiff {
  sizeLive: number;
  sizeReplayed: number;
  /** null when one side is a prefix of the other and sizes are equal (identical). */
  firstDifferingByte: number | null;
  unified: string | null;
  /** The report written to <out>/diffs/<step>.diff. */
  text: string;
  /** A few lines for the terminal. */
  summary: string;
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
  const changed = unified?.split("\n").filter((l) => /^[-+][^-+]/.test(l)) ?? [];
  const summary = [
    ...head,
    ...changed.slice(0, 6),
    ...(changed.length > 6 ? [`... ${changed.length - 6} more changed lines`] : []),
  ].join("\n");
  return {
    sizeLive: liveStat.size,
    sizeReplayed: replayedStat.size,
    firstDifferingByte,
    unified,
    text,
    summary,
  };
}
