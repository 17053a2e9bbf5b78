/**
 * Explains a mismatch with diffoscope, in the sandbox (run-diffoscope.ts), and falls back to the
 * built-in diff with a warning that says why whenever diffoscope cannot give a report: its image
 * missing and not buildable (no root, no mirror, a failed build), a crash, its wall clock, the
 * memory limit. The image is looked for (and built) once per differ, on the first mismatch.
 */
import { jsonrepair } from "jsonrepair";
import { ReplayError, messageOf } from "../errors/index.js";
import type { DockerEngine, StepExecutor } from "../runner/index.js";
import { builtinReport } from "./builtin-diff.js";
import { explainReport } from "./diff-explanation.js";
import { DEFAULT_DIFF_LIMITS, type DiffLimits } from "./diff-limits.js";
import { parseReport } from "./diffoscope-json.js";
import { DIFFOSCOPE_IMAGE, ensureDiffoscopeImage, type DiffoscopeImage } from "./diffoscope-image.js";
import { KILLED, TIMED_OUT } from "./diffoscope-wrapper.js";
import { clip, plainLine } from "./explanation-text.js";
import type { DiffReport, DiffRequest, PayloadDiffer } from "./payload-differ.js";
import { cutHtml, cutNote, cutText, diffoscopeCut, type BoundedReport } from "./report-bounds.js";
import { runDiffoscope, type DiffoscopeOutcome } from "./run-diffoscope.js";

export interface DiffoscopeDifferOptions {
  engine: DockerEngine;
  executor: StepExecutor;
  /** REPLAY_DIFF_IMAGE; default replay-diffoscope:bookworm. */
  image?: string | undefined;
  limits?: Partial<DiffLimits> | undefined;
  /** Progress for a human (building the image). */
  log?: ((line: string) => void) | undefined;
  /** For tests: whether this process may build the image. */
  canBuild?: (() => boolean) | undefined;
}

type Verdict = { kind: "report"; report: DiffReport } | { kind: "fallback"; reason: string };

function lastLine(text: string): string {
  const line =
    text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .at(-1) ?? "";
  return clip(plainLine(line), 160);
}

/** The JSON report as written: diffoscope's, or, when it was cut, repaired and saying so. */
function jsonFile(report: BoundedReport, bound: number): string {
  if (!report.cut) return report.content;
  let repaired: unknown;
  try {
    repaired = JSON.parse(jsonrepair(report.content));
  } catch {
    repaired = {};
  }
  const marked = {
    "replay-runner": { truncated: true, limit_bytes: bound, note: cutNote(bound) },
    ...(typeof repaired === "object" && repaired !== null && !Array.isArray(repaired) ? repaired : {}),
  };
  return `${JSON.stringify(marked)}\n`;
}

function verdictOf(outcome: DiffoscopeOutcome, image: DiffoscopeImage, limits: DiffLimits): Verdict {
  if (outcome.kind === "failed") return { kind: "fallback", reason: outcome.reason };
  const { status, reports, stderrTail, names } = outcome;
  const said = lastLine(stderrTail);
  const timedOut =
    status.exit === TIMED_OUT || (status.exit === KILLED && status.seconds >= limits.wallSeconds);
  if (timedOut)
    return { kind: "fallback", reason: `diffoscope ran longer than its limit of ${limits.wallSeconds} s` };
  if (status.oomKills > 0 && status.exit !== 1) {
    return {
      kind: "fallback",
      reason: `diffoscope ran out of memory (limit ${Math.round(limits.memoryBytes / 2 ** 20)} MiB)`,
    };
  }
  if (status.exit === 0) return { kind: "fallback", reason: "diffoscope found no difference" };
  if (status.exit !== 1) {
    return {
      kind: "fallback",
      reason: `diffoscope failed (exit status ${status.exit}${said === "" ? "" : `: ${said}`})`,
    };
  }
  const { text, html, json } = reports;
  if (text === undefined || json === undefined)
    return { kind: "fallback", reason: "diffoscope wrote no text or JSON report" };
  const written = jsonFile(json, limits.reportBytes);
  const root = parseReport(written);
  if (root === undefined) return { kind: "fallback", reason: "diffoscope's JSON report could not be read" };
  const cut = text.cut || json.cut || (html?.cut ?? false);
  const truncated = cut || diffoscopeCut(text.content, html?.content);
  const warnings =
    status.oomKills > 0
      ? [
          "diff: a tool diffoscope ran was killed for lack of memory: the report may miss what it would have shown",
        ]
      : [];
  return {
    kind: "report",
    report: {
      tool: image.tool,
      explanation: explainReport(root, names, json.cut),
      text: cutText(text, limits.reportBytes),
      html: html === undefined ? null : cutHtml(html, limits.reportBytes),
      json: written,
      truncated,
      warnings,
    },
  };
}

export class DiffoscopeDiffer implements PayloadDiffer {
  private readonly limits: DiffLimits;
  private image: Promise<DiffoscopeImage> | undefined;

  constructor(private readonly options: DiffoscopeDifferOptions) {
    this.limits = { ...DEFAULT_DIFF_LIMITS, ...options.limits };
  }

  /** Once per differ: a failed look-up or build is not retried for every mismatch of a replay. */
  private imageOnce(): Promise<DiffoscopeImage> {
    this.image ??= ensureDiffoscopeImage(this.options.engine, {
      tag: this.options.image ?? DIFFOSCOPE_IMAGE,
      log: this.options.log ?? (() => undefined),
      canBuild: this.options.canBuild,
    });
    return this.image;
  }

  async diff(request: DiffRequest): Promise<DiffReport> {
    let reason: string;
    try {
      if (request.signal?.aborted === true)
        throw new ReplayError("INTERRUPTED", "the replay was interrupted");
      const image = await this.imageOnce();
      const verdict = verdictOf(
        await runDiffoscope(this.options.executor, image, request, this.limits),
        image,
        this.limits,
      );
      if (verdict.kind === "report") return verdict.report;
      reason = verdict.reason;
    } catch (error) {
      reason = clip(plainLine(messageOf(error).split("\n")[0] ?? ""), 300);
    }
    // An interrupted replay does not wait for a built-in diff of two large files either.
    if (request.signal?.aborted === true)
      throw new ReplayError("INTERRUPTED", `the replay was interrupted (${reason})`);
    const fallback = await builtinReport(request, this.limits.reportBytes);
    return {
      ...fallback,
      warnings: [`diff: diffoscope could not explain this mismatch (${reason}); the built-in diff stands in`],
    };
  }
}
