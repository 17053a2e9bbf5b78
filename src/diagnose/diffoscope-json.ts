/**
 * diffoscope's JSON report: a tree of differences, each `{source1, source2, comments?,
 * has_internal_linenos?, unified_diff, details?}`. It comes out of a container that read hostile
 * bytes, so it is read as hostile too: each node's shape checked, depth and node count bounded.
 */
import { z } from "zod";

export interface ReportNode {
  source1: string;
  source2: string;
  comments: string[];
  /** The diff is a hexdump (xxd), whose lines carry their own offsets. */
  hexdump: boolean;
  unifiedDiff: string | null;
  details: ReportNode[];
}

const MAX_DEPTH = 64;
const MAX_NODES = 5_000;

const nodeSchema = z.object({
  source1: z.string().catch(""),
  source2: z.string().catch(""),
  comments: z.array(z.string()).catch([]).default([]),
  has_internal_linenos: z.boolean().catch(false).default(false),
  unified_diff: z.string().nullable().catch(null).default(null),
  details: z.array(z.unknown()).catch([]).default([]),
});

/** The tree, or undefined when the text is not a diffoscope JSON report. */
export function parseReport(text: string): ReportNode | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || !("diffoscope-json-version" in raw)) return undefined;
  let budget = MAX_NODES;
  // Depth and count bounded: a report nested thousands deep or with a million nodes costs little.
  const convert = (value: unknown, depth: number): ReportNode | undefined => {
    if (budget-- <= 0 || depth > MAX_DEPTH) return undefined;
    const parsed = nodeSchema.safeParse(value);
    if (!parsed.success) return undefined;
    const n = parsed.data;
    return {
      source1: n.source1,
      source2: n.source2,
      comments: n.comments,
      hexdump: n.has_internal_linenos,
      unifiedDiff: n.unified_diff,
      details: n.details.flatMap((d) => convert(d, depth + 1) ?? []),
    };
  };
  return convert(raw, 0);
}
