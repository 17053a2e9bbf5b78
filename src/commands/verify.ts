/** `replay-runner verify [ARTIFACT...]`: verify many artifacts as one batch, each shared step once. */
import path from "node:path";
import { Option, type Command } from "commander";
import { z } from "zod";
import { EXIT, ReplayError, exitCodesHelp } from "../errors/index.js";
import { batchExitCode, newBatchId, runBatch, type BatchReport, type BatchReporter } from "../fleet/index.js";
import { visibleJson, visibleLines, visibleText } from "../terminal/index.js";
import { VERSION } from "../version.js";
import { openRegistry, settingsOf, useRegistry } from "./command-context.js";
import { relayInterrupts } from "./interrupts.js";
import { createReplayServices } from "./replay-services.js";
import { TerminalReporter, shortenHashes } from "./rerun-reporter.js";
import { parseOptions } from "./usage-error.js";
import {
  cancelQueued,
  cancelUsage,
  queueBatch,
  queuedText,
  showStatus,
  statusUsage,
} from "./verify-queued.js";
import {
  addSelectionOptions,
  batchSelectionOf,
  checkSelection,
  selectionSchema,
  whole,
} from "./verify-selection.js";

const optionsSchema = selectionSchema.extend({
  jobs: whole("--jobs", 1, 256).optional(),
  out: z.string().min(1, "--out must not be empty").optional(),
  strict: z.boolean().default(false),
  diff: z.boolean().default(false),
  json: z.boolean().default(false),
  queue: z.boolean().default(false),
  status: z.string().min(1, "--status takes a batch id").optional(),
  wait: z.boolean().default(false),
  cancel: z.string().min(1, "--cancel takes a batch id").optional(),
});

/** Step lines as `rerun` prints them, then one line per target and the batch's verdict. */
function batchReporter(): BatchReporter {
  const terminal = new TerminalReporter(process.stdout, process.stderr, "verify");
  return {
    batchPlanned({ batchId, outDir, plan }) {
      terminal.planned({
        replayId: batchId,
        outDir,
        executed: plan.steps,
        chain: { target: { id: `${plan.targets.length} target(s)` } },
      });
    },
    stepStarted: (step) => {
      terminal.stepStarted(step);
    },
    stepFinished: (row, extra) => {
      terminal.stepFinished(row, extra);
    },
    warning: (message) => {
      terminal.warning(message);
    },
  };
}

function summaryText(report: BatchReport, outDir: string): string {
  const lines: string[] = [];
  for (const t of report.targets) {
    const mark = t.status === "reproduced" ? "✓" : "✗";
    const origins =
      t.divergence_origins.length === 0 ? "" : `  diverged at ${t.divergence_origins.join(", ")}`;
    lines.push(`  ${mark} ${t.status.padEnd(14)} ${visibleText(t.artifact_id)}${visibleText(origins)}`);
  }
  for (const o of report.divergence_origins) {
    lines.push(
      `divergence ${visibleText(o.step_id)} (affects ${o.targets.length} target(s)): ${visibleText(shortenHashes(o.reason))}`,
    );
  }
  for (const t of report.unreplayable) {
    lines.push(`  ✗ ${"unreplayable".padEnd(14)} ${visibleText(t.artifact_id)}`);
    for (const line of t.reason.split("\n")) lines.push(`      ${visibleText(line)}`);
  }
  if (report.left_out.length > 0) {
    lines.push(
      `left out by --max-steps ${report.options.max_steps ?? ""}: ${report.left_out.map((t) => visibleText(t.artifact_id)).join(", ")}`,
    );
  }
  const s = report.summary;
  const verdict =
    report.status === "reproduced"
      ? "REPRODUCED"
      : report.status === "interrupted"
        ? "INTERRUPTED"
        : "NOT REPRODUCED";
  lines.push(
    `${verdict}: ${s.reproduced} of ${s.targets} target(s) reproduced, ${s.steps} distinct step(s) replayed once each${s.unreplayable > 0 ? `, ${s.unreplayable} target(s) unreplayable` : ""}${s.left_out > 0 ? `, ${s.left_out} target(s) left out` : ""}`,
  );
  lines.push(`batch: ${path.relative(process.cwd(), path.join(outDir, "batch.json")) || "batch.json"}`);
  return `${lines.join("\n")}\n`;
}

export function registerVerifyCommand(program: Command): void {
  addSelectionOptions(
    program
      .command("verify")
      .description(
        "verify many artifacts as one batch: each distinct step of their chains is replayed once; a manifest per target and batch.json",
      ),
  )
    .addOption(new Option("--jobs <n>", "independent steps run at once (default: number of CPUs)"))
    .option(
      "--out <dir>",
      "output folder: batch.json, targets/<artifact>/manifest.json, artifacts/, diffs/ (default: <home>/verifications/<batch-id>)",
    )
    .option("--strict", "abort before running anything when a frozen input is missing or corrupted (exit 5)")
    .option("--diff", "for each mismatch, explain what differs (as rerun --diff): <out>/diffs/")
    .option("--json", "print batch.json instead of progress")
    .option(
      "--queue",
      "PostgreSQL: store the batch and its steps as jobs for `replay-runner worker` processes on any host, and return",
    )
    .option("--status <batch-id>", "how a batch stands: its steps (queued batches) or its verdict")
    .option("--wait", "with --queue or --status: wait for the batch to end; exit as verify does")
    .option(
      "--cancel <batch-id>",
      "cancel a queued batch: nothing more of it starts; its running steps are stopped (exit 2 if it has ended)",
    )
    .addHelpText(
      "after",
      `\nExit 0 only when every selected target reproduced (a target left out by --max-steps did not).\n--queue exits 0 once the batch is stored (with --wait: as verify); --status exits 0 while the\nbatch runs, then as verify does.\n\n${exitCodesHelp([EXIT.ok, EXIT.notReproduced, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.integrity, EXIT.output, EXIT.internal, EXIT.sigint, EXIT.sigterm])}`,
    )
    .action(async (artifactIds: string[], raw: unknown, command: Command) => {
      const opts = parseOptions(optionsSchema, raw, "verify");
      const settings = settingsOf(command);
      const selects = opts.all || opts.type !== undefined || opts.recordedSince !== undefined;
      if (opts.cancel !== undefined) {
        const wrong = cancelUsage(
          artifactIds,
          selects || opts.queue || opts.wait || opts.status !== undefined,
        );
        if (wrong !== undefined) throw wrong;
        const batch = opts.cancel;
        process.exitCode = await useRegistry(openRegistry(settings, { migrate: true }), (db) =>
          cancelQueued(db, batch, { json: opts.json }),
        );
        return;
      }
      if (opts.status !== undefined) {
        const wrong = statusUsage(artifactIds, selects || opts.queue);
        if (wrong !== undefined) throw wrong;
        await using interrupts = relayInterrupts();
        const batch = opts.status;
        const code = await useRegistry(openRegistry(settings, { migrate: true }), (db) =>
          showStatus(db, batch, { wait: opts.wait, json: opts.json, signal: interrupts.signal }),
        );
        process.exitCode = interrupts.exitCode(code);
        return;
      }
      checkSelection(artifactIds, opts);
      if (opts.wait && !opts.queue)
        throw new ReplayError("USAGE", "--wait goes with --queue or --status.", {
          hint: "verify without --queue waits anyway: leave --wait out.",
        });
      const batchId = newBatchId();
      const outDir = path.resolve(opts.out ?? path.join(settings.home, "verifications", batchId));
      await using interrupts = relayInterrupts();
      const registry = openRegistry(settings, { migrate: true });
      if (opts.queue) {
        const db = await registry;
        if (db.backend === "postgres") {
          const code = await useRegistry(Promise.resolve(db), async () => {
            const queued = await queueBatch(db, settings.blobRoot, {
              ...batchSelectionOf(artifactIds, opts),
              outDir,
              strict: opts.strict,
              diff: opts.diff,
              batchId,
            });
            if (!opts.wait) {
              process.stdout.write(opts.json ? `${visibleJson(queued)}\n` : queuedText(queued));
              return 0;
            }
            if (!opts.json) process.stderr.write(queuedText(queued));
            return showStatus(db, batchId, { wait: true, json: opts.json, signal: interrupts.signal });
          });
          process.exitCode = interrupts.exitCode(code);
          return;
        }
        process.stderr.write(
          "--queue: the embedded registry admits one process, so this one runs the batch (workers need PostgreSQL)\n",
        );
      }
      await using services = await createReplayServices(settings, {
        log: (line) => process.stderr.write(`${visibleLines(line)}\n`),
        runId: batchId,
        signal: interrupts.signal,
        db: registry,
      });
      const { report } = await useRegistry(registry, (db) =>
        runBatch(
          {
            db,
            blobRoot: settings.blobRoot,
            executor: services.executor,
            images: services.images,
            differ: services.differ,
            preflight: () => services.preflight(),
            toolVersion: VERSION,
            reporter: opts.json ? undefined : batchReporter(),
          },
          {
            ...batchSelectionOf(artifactIds, opts),
            outDir,
            strict: opts.strict,
            diff: opts.diff,
            jobs: opts.jobs,
            batchId,
            signal: interrupts.signal,
          },
        ),
      );
      process.stdout.write(opts.json ? `${visibleJson(report)}\n` : summaryText(report, outDir));
      process.exitCode = interrupts.exitCode(batchExitCode(report));
    });
}
