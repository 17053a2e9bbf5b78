/**
 * What one difference of diffoscope's report is about, in plain words, for the outputs it reads
 * with a format's own tool: file(1)'s header line, sng's PNG chunks, pretty-printed JSON, an
 * SQLite dump, h5dump, gifbuild, and "key: value" listings (zipinfo -v, PDF document info).
 * Each returns undefined when the diff does not look like what it expects; the caller then
 * counts changed lines.
 */
import { clip, listOf, plainLine, quoted, verbFor } from "./explanation-text.js";
import type { Hunk } from "./unified-diff.js";

function changedLines(hunks: readonly Hunk[]): { old: string[]; new: string[] } {
  const lines = hunks.flatMap((h) => h.lines);
  return {
    old: lines.filter((l) => l.tag === "-").map((l) => l.text),
    new: lines.filter((l) => l.tag === "+").map((l) => l.text),
  };
}

function unique(items: Iterable<string>): string[] {
  return [...new Set(items)];
}

/** file(1)'s words for header fields, in a reader's words. */
const FIELD_WORDS: Record<string, string> = {
  "last modified": "modification time",
  was: "original file name",
  modified: "modification time",
  created: "creation time",
};

/** `gzip compressed data, was "a.csv", last modified: ..., from Unix` → its fields. */
function fileTypeFields(line: string): { format: string; fields: Map<string, string> } {
  const parts = line.split(/, (?=[^"]*(?:"[^"]*"[^"]*)*$)/);
  const format = parts[0] ?? "";
  const fields = new Map<string, string>();
  for (const part of parts.slice(1)) {
    const match = /^([A-Za-z][A-Za-z -]{0,40}?)(?::| (?=")) ?(.*)$/.exec(part);
    fields.set(match === null ? part : (match[1] ?? part), match === null ? "" : (match[2] ?? ""));
  }
  return { format, fields };
}

function formatName(fileType: string): string {
  const name = fileType
    .replace(/ (compressed data|image data|archive data|document|data|database|archive|file)\b.*$/i, "")
    .trim();
  return name === "" ? fileType : name;
}

/** `filetype from file(1)`: which header fields differ, e.g. "gzip header: modification time differs". */
export function describeFileType(hunks: readonly Hunk[]): string | undefined {
  const { old, new: added } = changedLines(hunks);
  const before = old[0];
  const after = added[0];
  if (before === undefined || after === undefined) return undefined;
  const a = fileTypeFields(before);
  const b = fileTypeFields(after);
  if (a.format !== b.format) return `file type differs: ${quoted(a.format)} vs ${quoted(b.format)}`;
  const keys = unique([...a.fields.keys(), ...b.fields.keys()]).filter(
    (k) => a.fields.get(k) !== b.fields.get(k),
  );
  if (keys.length === 0) return undefined;
  const words = unique(keys.map((k) => FIELD_WORDS[k] ?? k));
  return `${formatName(a.format)} header: ${listOf(words)} ${verbFor(words.length)}`;
}

/** sng: the PNG chunk each changed line belongs to ("tIME {", "IMAGE {"). */
export function describePngChunks(hunks: readonly Hunk[]): string | undefined {
  const chunks: string[] = [];
  let unknown = false;
  for (const hunk of hunks) {
    let chunk: string | undefined;
    for (const line of hunk.lines) {
      const open = /^([A-Za-z]{4}|IMAGE)\b.*\{\s*$/.exec(line.text);
      if (open !== null) chunk = open[1];
      if (line.tag === " " || line.text.startsWith("#SNG")) continue;
      if (chunk === undefined) unknown = true;
      else chunks.push(chunk === "IMAGE" ? "IDAT (pixels)" : chunk);
    }
  }
  const names = unique(chunks);
  if (names.length === 0) return unknown ? "PNG chunks differ" : undefined;
  return `PNG ${names.length === 1 ? "chunk" : "chunks"} ${listOf(names)} ${verbFor(names.length)}`;
}

const JSON_KEY = /^(\s*)"((?:[^"\\]|\\.)*)": ?(.*)$/;

/** The key paths of one side of a pretty-printed JSON hunk (4 spaces an indent, as diffoscope writes). */
function jsonPaths(hunk: Hunk, own: "-" | "+"): string[] {
  const stack: { indent: number; key: string }[] = [];
  const paths: string[] = [];
  for (const line of hunk.lines) {
    if (line.tag !== " " && line.tag !== own) continue;
    const indent = /^\s*/.exec(line.text)?.[0].length ?? 0;
    while (stack.length > 0 && (stack.at(-1)?.indent ?? 0) >= indent) stack.pop();
    const match = JSON_KEY.exec(line.text);
    const key = match === null ? undefined : jsonString(match[2] ?? "");
    if (line.tag === own && !/^\s*[}\]],?$/.test(line.text)) {
      const parents = stack.map((s) => s.key);
      // A hunk that starts inside an object has not seen its parents' keys: say so with "…".
      const missing = parents.length < indent / 4 - 1;
      const keys = key === undefined ? parents : [...parents, key];
      if (keys.length > 0) paths.push(`${missing ? "…." : ""}${keys.join(".")}`);
    }
    if (key !== undefined && /^[[{]$/.test((match?.[3] ?? "").trim())) stack.push({ indent, key });
  }
  return paths;
}

/** A JSON string's contents as written between its quotes; the raw text when it is not valid. */
function jsonString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/** diffoscope's pretty-printed JSON: `JSON: key "run_at" differs`. */
export function describeJson(hunks: readonly Hunk[], comments: readonly string[]): string | undefined {
  if (comments.some((c) => /ordering differences only/i.test(c)))
    return "JSON: only the order of keys differs";
  const paths = unique(hunks.flatMap((h) => [...jsonPaths(h, "-"), ...jsonPaths(h, "+")]));
  if (paths.length === 0) return undefined;
  const shown = paths.map((p) => quoted(p, 60));
  return `JSON: ${paths.length === 1 ? "key" : "keys"} ${listOf(shown)} ${verbFor(paths.length)}`;
}

/** `sqlite3 .dump`: the tables whose rows or schema differ. */
export function describeSqliteDump(hunks: readonly Hunk[]): string | undefined {
  const { old, new: added } = changedLines(hunks);
  const rows: string[] = [];
  const schema: string[] = [];
  for (const line of [...old, ...added]) {
    const insert = /^INSERT INTO "?([^"( ]+)"?/i.exec(line);
    const create = /^CREATE (?:TABLE|INDEX|VIEW|TRIGGER) (?:IF NOT EXISTS )?"?([^"( ]+)"?/i.exec(line);
    if (insert !== null) rows.push(insert[1] ?? "");
    else if (create !== null) schema.push(create[1] ?? "");
  }
  const parts: string[] = [];
  const rowTables = unique(rows);
  const schemaNames = unique(schema);
  if (rowTables.length > 0)
    parts.push(
      `rows of ${rowTables.length === 1 ? "table" : "tables"} ${listOf(rowTables.map((t) => quoted(t)))} differ`,
    );
  if (schemaNames.length > 0)
    parts.push(`schema of ${listOf(schemaNames.map((t) => quoted(t)))} ${verbFor(schemaNames.length)}`);
  return parts.length === 0 ? undefined : `SQLite: ${parts.join(", ")}`;
}

/** h5dump: the datasets and attributes whose lines changed (its first line names the file: ignored). */
export function describeHdf5(hunks: readonly Hunk[]): string | undefined {
  const names: string[] = [];
  for (const hunk of hunks) {
    const stack: { indent: number; name: string }[] = [];
    for (const line of hunk.lines) {
      const indent = /^\s*/.exec(line.text)?.[0].length ?? 0;
      const open = /^\s*(GROUP|DATASET|ATTRIBUTE) "((?:[^"\\]|\\.)*)" \{/.exec(line.text);
      if (line.tag !== "+" && open !== null) {
        while (stack.length > 0 && (stack.at(-1)?.indent ?? 0) >= indent) stack.pop();
        stack.push({ indent, name: `${(open[1] ?? "").toLowerCase()} "${open[2] ?? ""}"` });
        continue;
      }
      if (line.tag === " " || /^HDF5 "/.test(line.text)) continue;
      const inner = [...stack].reverse().find((s) => !s.name.startsWith("group"));
      names.push(inner?.name ?? stack.at(-1)?.name ?? "structure");
    }
  }
  const found = unique(names);
  return found.length === 0 ? undefined : `HDF5: ${listOf(found)} ${verbFor(found.length)}`;
}

/** gifbuild: the section ("comment", "image # 1", "screen width") of each changed line. */
export function describeGif(hunks: readonly Hunk[]): string | undefined {
  const sections: string[] = [];
  for (const hunk of hunks) {
    let section: string | undefined;
    for (const line of hunk.lines) {
      if (
        /^(comment|image #? ?\d*|graphics control|screen|netscape|extension)\b/i.test(line.text) &&
        line.tag === " "
      )
        section = line.text.trim();
      if (line.tag === " ") continue;
      sections.push(section ?? "header");
    }
  }
  const found = unique(sections);
  return found.length === 0
    ? undefined
    : `GIF: ${listOf(found.map((s) => clip(plainLine(s), 24)))} ${verbFor(found.length)}`;
}

/** "key: value" lines (zipinfo -v, PDF document info, image metadata): which keys changed. */
export function describeKeyValues(what: string, hunks: readonly Hunk[]): string | undefined {
  const { old, new: added } = changedLines(hunks);
  const keyOf = (line: string) => /^\s*([A-Za-z0-9][^:]{0,60}):\s/.exec(line)?.[1]?.trim();
  const before = new Map(old.flatMap((l) => (keyOf(l) === undefined ? [] : [[keyOf(l) ?? "", l] as const])));
  const after = new Map(added.flatMap((l) => (keyOf(l) === undefined ? [] : [[keyOf(l) ?? "", l] as const])));
  const keys = unique([...before.keys(), ...after.keys()]).filter((k) => before.get(k) !== after.get(k));
  if (keys.length === 0 || keys.length < Math.max(old.length, added.length) / 2) return undefined;
  return `${what}: ${listOf(keys)} ${verbFor(keys.length)}`;
}

/** A listing line's member name: what follows its time of day (tar, zipinfo), else its last word. */
function listedName(line: string): string | undefined {
  const afterTime = /\s\d\d:\d\d(?::\d\d(?:\.\d+)?)?\s+(\S.*)$/.exec(line)?.[1];
  return afterTime ?? /\s(\S+)$/.exec(line.trim())?.[1];
}

/** What changed between two listing lines of one member: its time, size, mode, or else. */
function listingChange(before: string, after: string): string {
  const a = before.trim().split(/\s+/);
  const b = after.trim().split(/\s+/);
  const what: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    if (x === y) continue;
    if (i === 0) what.push("permissions");
    else if (/\d{1,4}-(?:\d\d|[A-Za-z]{3})-\d\d|\d\d:\d\d/.test(x + y)) what.push("modification time");
    else if (/^\d+$/.test(x) && /^\d+$/.test(y)) what.push("size or owner");
    else what.push("entry");
  }
  return listOf(unique(what));
}

/** The archive listings (file list, zipinfo): which members' entries changed, and how. */
export function describeListing(what: string, hunks: readonly Hunk[]): string | undefined {
  const { old, new: added } = changedLines(hunks);
  const before = new Map(
    old.flatMap((l) => (listedName(l) === undefined ? [] : [[listedName(l) ?? "", l] as const])),
  );
  const after = new Map(
    added.flatMap((l) => (listedName(l) === undefined ? [] : [[listedName(l) ?? "", l] as const])),
  );
  const parts: string[] = [];
  for (const name of unique([...before.keys(), ...after.keys()])) {
    const x = before.get(name);
    const y = after.get(name);
    if (x === y) continue;
    const change =
      x === undefined
        ? "only in the replayed output"
        : y === undefined
          ? "only in the recorded one"
          : `${listingChange(x, y)} ${verbFor(1)}`;
    parts.push(`${quoted(name, 40)} ${change}`);
  }
  if (parts.length === 0) return undefined;
  return `${what}: ${listOf(parts, 2)}`;
}
