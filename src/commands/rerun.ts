/** `replay-runner rerun <artifact-id>`: the main job. */
import path from "node:path";
import { Option, type Command } from "commander";
import { z } from "zod";
import { EXIT, ReplayError, exitCodesHelp } from "../errors/index.js";
import { dryRunReplay, exitCodeOf, newReplayId, runReplay } from "../replay/index.js";
import { visibleJson, visibleLines } from "../terminal/index.js";
import { VERSION } from "../version.js";
import { openRegistry, settingsOf, useRegistry, withRegistry } from "./command-context.js";
import { formatDryRun } from "./dry-run-output.js";
import { createReplayServices } from "./replay-services.js";
import { replaySigning, type ReplaySigning } from "./replay-signing.js";
import { TerminalReporter } from "./rerun-reporter.js";
import { relayInterrupts } from "./interrupts.js";
import { parseOptions } from "./usage-error.js";

const notEmpty = (flag: string) => z.string().min(1, `${flag} must not be empty`);

const optionsSchema = z.object({
  out: notEmpty("--out").optional(),
  from: notEmpty("--from").optional(),
  force: z.boolean().default(false),
  strict: z.boolean().default(false),
  diff: z.boolean().default(false),
  json: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  sign: z.string().min(1).optional(),
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
      "--force",
      "replace the replay already in the --out folder: its manifest.json, artifacts/ and diffs/ are removed first (without it, a folder that is not empty is refused, exit 6)",
    )
    .option(
      "--from <step-id>",
      "do not execute the steps upstream of this one: their recorded payloads are frozen inputs",
    )
    .option("--strict", "abort before running anything when a frozen input is missing or corrupted (exit 5)")
    .option(
      "--diff",
      "for each mismatch, explain what differs (diffoscope in the sandbox; the built-in diff when it cannot run): <out>/diffs/<step-id>.txt, .html, .json",
    )
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
    .option(
      "--sign <key.pem>",
      "sign the replay: <out>/attestation.intoto.json, a DSSE in-toto attestation (default: $REPLAY_SIGNING_KEY)",
    )
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.notReproduced, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.integrity, EXIT.output, EXIT.signingKey, EXIT.internal, EXIT.sigint, EXIT.sigterm])}`,
    )
    .action(async (artifactId: string, raw: unknown, command: Command) => {
      const opts = parseOptions(optionsSchema, raw, "rerun");
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
        process.stdout.write(opts.json ? `${visibleJson(plan)}\n` : formatDryRun(plan));
        process.exitCode = plan.problems.length > 0 ? EXIT.integrity : EXIT.ok;
        return;
      }
      // The key is read and checked while the registry opens, and awaited before anything runs.
      const signingReady = replaySigning(opts.sign);
      signingReady.catch(() => undefined); // awaited below
      let signing: ReplaySigning | undefined;
      const replayId = newReplayId();
      const outDir = path.resolve(opts.out ?? path.join(settings.home, "replays", replayId));
      const reporter = opts.json ? undefined : new TerminalReporter();
      await using interrupts = relayInterrupts();
      // The registry starts opening first, then connecting starts loading the engine's client
      // (~90 ms on this thread), which overlaps the opening: the embedded registry compiles its
      // WebAssembly on background threads meanwhile, PostgreSQL answers the connection.
      const registry = openRegistry(settings, { migrate: true });
      await using services = await createReplayServices(settings, {
        log: (line) => process.stderr.write(`${visibleLines(line)}\n`),
        runId: replayId,
        signal: interrupts.signal,
        db: registry,
      });
      const manifest = await useRegistry(registry, async (db) => {
        signing = await signingReady;
        return runReplay(
          {
            db,
            blobRoot: settings.blobRoot,
            executor: services.executor,
            images: services.images,
            differ: services.differ,
            preflight: () => services.preflight(),
            toolVersion: VERSION,
            reporter,
            attest: signing?.attest,
          },
          {
            artifactId,
            outDir,
            from: opts.from,
            strict: opts.strict,
            diff: opts.diff,
            jobs: opts.jobs,
            force: opts.force,
            triage: opts.triage === undefined ? "off" : opts.triage === "all" ? "all" : "origins",
            repeat: opts.repeat,
            replayId,
            signal: interrupts.signal,
          },
        );
      });
      if (opts.json) process.stdout.write(`${visibleJson(manifest)}\n`);
      else
        process.stdout.write(
          `manifest: ${path.relative(process.cwd(), path.join(outDir, "manifest.json")) || "manifest.json"}\n${signing === undefined ? "" : `attestation: ${path.relative(process.cwd(), path.join(outDir, "attestation.intoto.json"))} (key id ${signing.keyId})\n`}`,
        );
      process.exitCode = interrupts.exitCode(exitCodeOf(manifest));
    });
}
