/**
 * `rerun --diff` for one mismatching step: the differ's reports written as diffs/<step>.txt,
 * .html and .json, and the manifest row's `diff`. It runs once the step's verdict is final and
 * never changes it: whatever goes wrong becomes a warning on the row, never a failed replay.
 */
import { ReplayError, messageOf } from "../errors/index.js";
import { builtinDiffer } from "./builtin-diff.js";
import { clip, plainLine } from "./explanation-text.js";
import type { DiffReport, DiffRequest, PayloadDiffer } from "./payload-differ.js";

/** The manifest row's `diff`. Files are relative to the manifest's folder. */
export interface StepDiff {
  /** "diffoscope 240" or "builtin". */
  tool: string;
  /** One line in plain words: which member, section or header differs. */
  explanation: string;
  files: { text: string; html: string | null; json: string | null };
  /** A report was cut at its bound; the files say where. */
  truncated: boolean;
}

/**
 * Where the reports go: the replay's output folder (replay/out-dir.ts), which names each
 * `diffs/<step>.<suffix>` injectively and claims it once.
 */
export interface DiffFolder {
  writeDiff(stepId: string, suffix: string, text: string): Promise<string>;
  relative(file: string): string;
}

export interface ExplainedMismatch {
  diff: StepDiff | null;
  warnings: string[];
}

async function writeReports(folder: DiffFolder, stepId: string, report: DiffReport): Promise<StepDiff> {
  const write = async (extension: string, content: string | null) =>
    content === null ? null : folder.relative(await folder.writeDiff(stepId, `.${extension}`, content));
  const [text, html, json] = await Promise.all([
    write("txt", report.text),
    write("html", report.html),
    write("json", report.json),
  ]);
  return {
    tool: report.tool,
    explanation: report.explanation,
    files: { text: text ?? "", html, json },
    truncated: report.truncated,
  };
}

/**
 * Diffs the two payloads (diffoscope when the differ has it, else the built-in diff) and writes
 * the reports under `diffs/<step>.*` (the folder makes the step id a file name).
 */
export async function explainMismatch(
  differ: PayloadDiffer | undefined,
  request: DiffRequest,
  folder: DiffFolder,
  stepId: string,
): Promise<ExplainedMismatch> {
  let report: DiffReport;
  try {
    report = await (differ ?? builtinDiffer).diff(request);
  } catch (error) {
    const why =
      error instanceof ReplayError && error.code === "INTERRUPTED"
        ? "the replay was interrupted"
        : messageOf(error);
    return { diff: null, warnings: [`diff: not made: ${clip(plainLine(why), 300)}`] };
  }
  if (report.truncated) report.warnings.push("diff: a report was cut at its size limit; the file says where");
  try {
    return { diff: await writeReports(folder, stepId, report), warnings: report.warnings };
  } catch (error) {
    return {
      diff: null,
      warnings: [
        ...report.warnings,
        `diff: its reports could not be written: ${clip(plainLine(messageOf(error)), 300)}`,
      ],
    };
  }
}
