/**
 * One line, in plain words, of what differs, derived from diffoscope's JSON report: which nested
 * member, and in it which section or header, e.g. `gzip header: modification time differs`,
 * `PNG chunk tIME differs`, `data.tar > figure.svg: 3 lines differ, first "generated 2026-…"`,
 * `JSON: key "run_at" differs`. Payload-derived text is sanitised and the line bounded.
 */
import type { ReportNode } from "./diffoscope-json.js";
import { clip, plainLine, quoted } from "./explanation-text.js";
import {
  describeFileType,
  describeGif,
  describeHdf5,
  describeJson,
  describeKeyValues,
  describeListing,
  describePngChunks,
  describeSqliteDump,
} from "./format-descriptions.js";
import { describeHexdump } from "./hexdump-diff.js";
import { describeLineChanges, lineChanges, parseHunks, type Hunk } from "./unified-diff.js";

/** The longest explanation: one terminal line, give or take. */
export const MAX_EXPLANATION_CHARS = 240;
/** Differences named in full; the rest are counted. */
const NAMED = 3;

/** The file names the two payloads had inside the container (their basenames). */
export interface InputNames {
  recorded: string;
  replayed: string;
}

/** diffoscope's labels for what it ran on a file, as opposed to a member's name. */
const OPERATION =
  /^(?:filetype from file\(1\)|sng|gifbuild|Pretty-printed|file list|Image (?:metadata|content)|zipinfo|zipnote|zipdetails|bsdtar|sqlite3|h5dump|pdftotext|dumppdf|encoding|metadata|stat|lsattr|getfacl|xxd)(?:\s|$)|\{\}/;

interface Leaf {
  path: string[];
  /** The operation's label, or undefined for a member's (or the file's) own content. */
  operation: string | undefined;
  node: ReportNode;
}

/** A member's name as a reader knows it; undefined for a segment the reader never named. */
function memberName(node: ReportNode, names: InputNames): string | undefined {
  if (node.source1 === node.source2) return node.source1;
  // A compressed file's one member is named after the file ("recorded-content" vs
  // "replayed-content"): named after our inputs, not after anything in the payload.
  const rest1 = node.source1.startsWith(names.recorded) ? node.source1.slice(names.recorded.length) : null;
  const rest2 = node.source2.startsWith(names.replayed) ? node.source2.slice(names.replayed.length) : null;
  if (rest1 !== null && rest1 === rest2) return undefined;
  return `${node.source1} → ${node.source2}`;
}

function collectLeaves(root: ReportNode, names: InputNames): Leaf[] {
  const leaves: Leaf[] = [];
  const visit = (node: ReportNode, path: string[], parent: ReportNode | undefined) => {
    const isOperation = parent !== undefined && OPERATION.test(node.source1);
    // A format's detail named after the file itself (XML pretty-printed, PDF document info).
    const isSelf = parent !== undefined && node.source1 === parent.source1;
    const ownPath = [...path];
    if (parent !== undefined && !isOperation && !isSelf) {
      const name = memberName(node, names);
      if (name !== undefined) ownPath.push(name);
    }
    const operation = isOperation ? node.source1 : undefined;
    if (node.unifiedDiff !== null || (node.details.length === 0 && node.comments.length > 0))
      leaves.push({ path: ownPath, operation, node });
    for (const child of node.details) visit(child, ownPath, node);
  };
  visit(root, [], undefined);
  return leaves;
}

/** Comments about our image's missing tools say nothing about the payload. */
function payloadComments(node: ReportNode): string[] {
  return node.comments.filter((c) => !/not available in path|may produce (a )?better output/i.test(c));
}

function describeByOperation(operation: string, hunks: Hunk[], node: ReportNode): string | undefined {
  if (operation === "filetype from file(1)") return describeFileType(hunks);
  if (operation === "sng") return describePngChunks(hunks);
  if (operation === "gifbuild") return describeGif(hunks);
  if (operation === "Pretty-printed") return describeJson(hunks, node.comments);
  if (operation.startsWith("sqlite3")) return describeSqliteDump(hunks);
  if (operation.startsWith("h5dump")) return describeHdf5(hunks);
  if (operation.startsWith("zipinfo -v")) return describeKeyValues("zip metadata", hunks);
  if (operation.startsWith("zipinfo") || operation.startsWith("bsdtar"))
    return describeListing("zip listing", hunks);
  if (operation === "file list") return describeListing("file list", hunks);
  if (operation === "zipnote") return withPrefix("zip comments", describeLineChanges(lineChanges(hunks)));
  if (operation === "Image metadata") return describeKeyValues("image metadata", hunks);
  if (operation.startsWith("pdftotext"))
    return withPrefix("PDF text", describeLineChanges(lineChanges(hunks)));
  if (operation.startsWith("dumppdf"))
    return withPrefix("PDF structure", describeLineChanges(lineChanges(hunks)));
  return undefined;
}

function withPrefix(prefix: string, text: string | undefined): string | undefined {
  return text === undefined ? undefined : `${prefix}: ${text}`;
}

function describeLeaf(leaf: Leaf): string {
  const { node, operation } = leaf;
  const comments = payloadComments(node);
  const fallback = clip(plainLine(comments[0] ?? "differs"), 120);
  if (node.unifiedDiff === null) return fallback;
  const hunks = parseHunks(node.unifiedDiff);
  let specific: string | undefined;
  if (node.hexdump) specific = describeHexdump(hunks);
  else if (comments.includes("Document info")) specific = describeKeyValues("PDF document info", hunks);
  else if (operation !== undefined) specific = describeByOperation(operation, hunks, node);
  if (specific !== undefined) return specific;
  const lines = describeLineChanges(lineChanges(hunks));
  if (lines === undefined) return fallback;
  // An operation we have no words for: name it as diffoscope does ("readelf --wide --symbols").
  return operation === undefined
    ? lines
    : `${clip(plainLine(operation.replace(/ ?\{\}/g, "")), 40)}: ${lines}`;
}

/** The explanation of a diffoscope report; `truncated`: the report was cut, so it may miss some. */
export function explainReport(root: ReportNode, names: InputNames, truncated = false): string {
  const described: string[] = [];
  for (const leaf of collectLeaves(root, names)) {
    const where = leaf.path.map((p) => quotedIfOdd(p)).join(" > ");
    const line = `${where === "" ? "" : `${where}: `}${describeLeaf(leaf)}`;
    if (!described.includes(line)) described.push(line);
  }
  let text: string;
  if (described.length > 0) {
    text = described.slice(0, NAMED).join("; ");
    if (described.length > NAMED) text += `; and ${described.length - NAMED} more`;
  } else {
    text = payloadComments(root)[0] ?? "the files differ, but diffoscope named no part that differs";
  }
  const suffix = truncated ? " (report cut)" : "";
  return `${clip(plainLine(text), MAX_EXPLANATION_CHARS - suffix.length)}${suffix}`;
}

/** Member names are payload data: plain ones as they are, anything odd quoted and bounded. */
function quotedIfOdd(name: string): string {
  return /^[\w./ →+-]{1,60}$/u.test(name) ? name : quoted(name, 60);
}
