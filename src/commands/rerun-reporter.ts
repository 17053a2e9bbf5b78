/**
 * Terminal progress for `rerun`: a line per step as it finishes, a live status line on a TTY, a
 * summary. Ids, step types, reasons, warnings and diffs come from the registry, steps and
 * payloads: each is made visible (terminal/visible-text.ts) before it is styled or padded.
 */
import type { ChainStep } from "../chain/types.js";
import type { Manifest, ManifestStep, ReplayReporter } from "../replay/index.js";
import { styleFor, type Style } from "./terminal-style.js";
import { shortContentHash } from "../hashing/index.js";
import { triageSentence } from "../diagnose/index.js";
import { visibleText } from "../terminal/index.js";

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** The terminal shows hashes short; the manifest keeps them whole. */
export function shortenHashes(text: string): string {
  return text.replace(/sha256:[0-9a-f]{64}/g, shortContentHash);
}

export class TerminalReporter implements ReplayReporter {
  private readonly style: Style;
  private readonly running = new Set<string>();
  private total = 0;
  private idWidth = 0;
  private typeWidth = 0;
  private done = 0;
  private statusShown = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly live: NodeJS.WriteStream = process.stderr,
    /** The first word of the plan's line ("verify" for a batch). */
    private readonly heading = "replay",
  ) {
    this.style = styleFor(out);
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.live.write("\r\x1b[2K");
      this.statusShown = false;
    }
  }

  private drawStatus(): void {
    if (!this.live.isTTY) return;
    const names = [...this.running].slice(0, 3).map(visibleText).join(", ");
    const more = this.running.size > 3 ? ` +${this.running.size - 3}` : "";
    this.live.write(`\r\x1b[2K${this.style.dim(`[${this.done}/${this.total}] running: ${names}${more}`)}`);
    this.statusShown = true;
  }

  planned(info: {
    replayId: string;
    outDir: string;
    executed: readonly ChainStep[];
    chain: { target: { id: string } };
  }): void {
    this.total = info.executed.length;
    this.idWidth = Math.min(40, Math.max(0, ...info.executed.map((s) => visibleText(s.step.id).length)));
    this.typeWidth = Math.min(
      20,
      Math.max(0, ...info.executed.map((s) => visibleText(s.step.stepType).length)),
    );
    this.out.write(
      `${this.style.bold(this.heading)} ${visibleText(info.replayId)} of ${visibleText(info.chain.target.id)}: ${this.total} step(s) -> ${visibleText(info.outDir)}\n`,
    );
  }

  stepStarted(step: ChainStep): void {
    this.running.add(step.step.id);
    this.clearStatus();
    this.drawStatus();
  }

  stepFinished(row: ManifestStep, extra?: { diffSummary?: string }): void {
    this.running.delete(row.step_id);
    this.done++;
    this.clearStatus();
    const s = this.style;
    const mark: Record<ManifestStep["status"], string> = {
      reproduced: s.green("✓ reproduced  "),
      verified: s.green("✓ verified    "),
      mismatch: s.red("✗ mismatch    "),
      failed: s.red("✗ failed      "),
      unreplayable: s.yellow("! unreplayable"),
      interrupted: s.yellow("! interrupted "),
    };
    const reason = row.reason === null ? "" : `  ${visibleText(shortenHashes(row.reason))}`;
    const id = visibleText(row.step_id).padEnd(this.idWidth);
    const type = s.dim(visibleText(row.step_type).padEnd(this.typeWidth));
    this.out.write(
      `  ${mark[row.status]} ${id}  ${type}  ${seconds(row.duration_ms).padStart(7)}${reason}\n`,
    );
    for (const w of row.warnings) this.out.write(`      ${s.yellow("warning")}: ${visibleText(w)}\n`);
    for (const line of extra?.diffSummary?.split("\n") ?? [])
      this.out.write(`      ${s.dim("diff")}  ${visibleText(line)}\n`);
    if (this.running.size > 0) this.drawStatus();
  }

  triaging(stepId: string): void {
    this.clearStatus();
    this.out.write(
      `  ${this.style.dim("triage")}  ${visibleText(stepId)}: replaying it again, and under variations\n`,
    );
  }

  warning(message: string): void {
    this.clearStatus();
    this.out.write(`  ${this.style.yellow("warning")}: ${visibleText(message)}\n`);
  }

  finished(manifest: Manifest): void {
    this.clearStatus();
    const s = this.style;
    const { summary } = manifest;
    const parts = [
      `${summary.reproduced} reproduced`,
      summary.verified > 0 ? `${summary.verified} verified` : "",
      summary.mismatch > 0 ? s.red(`${summary.mismatch} mismatch`) : "",
      summary.failed > 0 ? s.red(`${summary.failed} failed`) : "",
      summary.unreplayable > 0 ? s.yellow(`${summary.unreplayable} unreplayable`) : "",
      summary.interrupted > 0 ? s.yellow(`${summary.interrupted} interrupted`) : "",
    ].filter((p) => p !== "");
    const verdict =
      manifest.status === "reproduced"
        ? s.green("REPRODUCED")
        : manifest.status === "interrupted"
          ? s.yellow("INTERRUPTED")
          : s.red("NOT REPRODUCED");
    this.out.write(
      `${verdict}: ${parts.join(", ")} of ${summary.steps} step(s) in ${seconds(manifest.duration_ms)}\n`,
    );
    if (manifest.first_divergence !== null) {
      this.out.write(
        `first divergence: ${s.bold(visibleText(manifest.first_divergence.step_id))}: ${visibleText(shortenHashes(manifest.first_divergence.reason))}\n`,
      );
    }
    this.divergence(manifest);
    this.diagnosis(manifest);
  }

  /** Every origin and every inherited row, in words (the step lines came before they were known). */
  private divergence(manifest: Manifest): void {
    const marked = manifest.steps.filter((r) => r.divergence !== null);
    if (marked.length === 0) return;
    const width = Math.min(40, Math.max(...marked.map((r) => visibleText(r.step_id).length)));
    this.out.write(
      `divergence origins: ${manifest.divergence_origins.map((o) => visibleText(o.step_id)).join(", ")}\n`,
    );
    for (const row of marked) {
      const words =
        row.divergence === "origin"
          ? this.style.red("origin")
          : `${row.status === "failed" ? "failed, " : ""}inherited from ${row.inherited_from.map(visibleText).join(", ")}`;
      this.out.write(`  ${visibleText(row.step_id).padEnd(width)}  ${words}\n`);
    }
  }

  /** Image drift found once every step was done, and triage's verdicts. */
  private diagnosis(manifest: Manifest): void {
    const s = this.style;
    for (const row of manifest.steps) {
      for (const w of row.warnings.filter((w) => w.startsWith("image drift:")))
        this.out.write(
          `  ${s.yellow("warning")}: ${visibleText(row.step_id)}: ${visibleText(shortenHashes(w))}\n`,
        );
    }
    const counts = manifest.summary.triage;
    if (counts === undefined) return;
    const verdicts = (
      ["nondeterministic", "environment-sensitive", "drift", "deterministic", "inconclusive"] as const
    )
      .filter((v) => counts[v] > 0)
      .map((v) => `${counts[v]} ${v}`);
    this.out.write(
      `triage: ${counts.triaged === 0 ? "no step to triage" : `${verdicts.join(", ")} of ${counts.triaged} step(s)`}\n`,
    );
    for (const row of manifest.steps) {
      if (row.triage === null) continue;
      this.out.write(
        `  ${s.bold(visibleText(row.step_id))}  ${visibleText(shortenHashes(triageSentence(row.triage, row.diff)))}\n`,
      );
    }
  }
}
