/** `replay-runner rerun <artifact-id>`: the main job. */
import path from "node:path";
import { Option, type Command } from "commander";
import { z } from "zod";
import { EXIT, EXIT_CODES_HELP, ReplayError } from "../errors/index.js";
import { dryRunReplay, exitCodeOf, newReplayId, runReplay } from "../replay/index.js";
import { VERSION } from "../version.js";
import { openRegistry, settingsOf, useRegistry, withRegistry } from "./command-context.js";
import { formatDryRun } from "./dry-run-output.js";
import { createReplayServices } from "./replay-services.js";
import { TerminalReporter } from "./rerun-reporter.js";
import { relayInterrupts } from "./interrupts.js";

const optionsSchema = z.object({
  out: z.string().min(1).optional(),
  from: z.string().min(1).optional(),
  strict: z.boolean().default(false),
  diff: z.boolean().default(false),
  json: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  triage: z
    .union([z.literal(true), z.literal("all")], {
      error: "--triage takes no value (the origin mismatches) or =all (also the steps that reproduced)",
    })
    .optional(),
  repeat: z.coerce
    .number({ error: "--repeat must be a whole number" })
    .int("--repeat must be a whole number")
    .min(2, "--repeat must be at least 2: triage compares repeats with each other")
    .max(20, "--repeat must be at most 20")
    .optional(),
  jobs: z.coerce
    .number({ error: "--jobs must be a whole number" })
    .int("--jobs must be a whole number")
    .min(1, "--jobs must be at least 1")
    .max(256, "--jobs must be at most 256")
    .optional(),
});

export function registerRerunCommand(program: Command): void {
  program
    .command("rerun")
    .description("replay every step behind an artifact and check, byte for byte, that each result reproduces")
    .argument("<artifact-id>", "the artifact whose chain to replay")
    .option(
      "--out <dir>",
      "output folder for manifest.json, artifacts/ and diffs/ (default: <home>/replays/<replay-id>)",
    )
    .option(
      "--from <step-id>",
      "do not execute the steps upstream of this one: their recorded payloads are frozen inputs",
    )
    .option("--strict", "abort before running anything when a frozen input is missing or corrupted (exit 5)")
    .option("--diff", "for each mismatch, write what differs to <out>/diffs/<step-id>.diff")
    .addOption(new Option("--jobs <n>", "independent steps run at once (default: number of CPUs)"))
    .option(
      "--triage [all]",
      "for each origin mismatch, replay the step again (--repeat) and under variations (clock, CPUs, /in order, hash seed, ...) and say why it did not reproduce; =all: also the steps that reproduced",
    )
    .addOption(new Option("--repeat <n>", "with --triage: repeats under identical conditions (default 2)"))
    .option("--json", "print the manifest as JSON instead of progress")
    .option(
      "--dry-run",
      "walk the chain, plan and check every frozen input and script, run nothing; prints the plan (exit 5 when a check fails)",
    )
    .addHelpText("after", `\n${EXIT_CODES_HELP}`)
    .action(async (artifactId: string, raw: unknown, command: Command) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new ReplayError("USAGE", parsed.error.issues.map((i) => i.message).join("; "), {
          hint: "See `replay-runner rerun --help`.",
        });
      }
      const opts = parsed.data;
      if (opts.repeat !== undefined && opts.triage === undefined) {
        throw new ReplayError("USAGE", "--repeat counts the repeats of --triage; it does nothing alone.", {
          hint: "Add --triage, or leave --repeat out.",
        });
      }
      const settings = settingsOf(command);
      if (opts.dryRun) {
        // Reads only: no migration, no engine, no output folder.
        const plan = await withRegistry(settings, {}, (db) =>
          dryRunReplay(db, settings.blobRoot, { artifactId, from: opts.from }),
        );
        process.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : formatDryRun(plan));
        process.exitCode = plan.problems.length > 0 ? EXIT.integrity : EXIT.ok;
        return;
      }
      const replayId = newReplayId();
      const outDir = path.resolve(opts.out ?? path.join(settings.home, "replays", replayId));
      const reporter = opts.json ? undefined : new TerminalReporter();
      await using interrupts = relayInterrupts();
      // The registry starts opening first, then connecting starts loading the engine's client
      // (~90 ms on this thread), which overlaps the opening: the embedded registry compiles its
      // WebAssembly on background threads meanwhile, PostgreSQL answers the connection.
      const registry = openRegistry(settings, { migrate: true });
      await using services = await createReplayServices(settings, {
        log: (line) => process.stderr.write(`${line}\n`),
        runId: replayId,
        signal: interrupts.signal,
      });
      const manifest = await useRegistry(registry, (db) =>
        runReplay(
          {
            db,
            blobRoot: settings.blobRoot,
            executor: services.executor,
            images: services.images,
            preflight: () => services.preflight(),
            toolVersion: VERSION,
            reporter,
          },
          {
            artifactId,
            outDir,
            from: opts.from,
            strict: opts.strict,
            diff: opts.diff,
            jobs: opts.jobs,
            triage: opts.triage === undefined ? "off" : opts.triage === "all" ? "all" : "origins",
            repeat: opts.repeat,
            replayId,
            signal: interrupts.signal,
          },
        ),
      );
      if (opts.json) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
      else
        process.stdout.write(
          `manifest: ${path.relative(process.cwd(), path.join(outDir, "manifest.json")) || "manifest.json"}\n`,
        );
      const received = interrupts.received;
      process.exitCode =
        received === "SIGTERM" ? EXIT.sigterm : received === "SIGINT" ? EXIT.sigint : exitCodeOf(manifest);
    });
}
