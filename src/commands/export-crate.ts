/** `replay-runner export-crate <replay-id | out-dir>`: a replay as a Workflow Run RO-Crate (Provenance Run Crate). */
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import { EXIT, ReplayError, exitCodesHelp } from "../errors/index.js";
import { VERSION } from "../version.js";
import { settingsOf, withRegistry } from "./command-context.js";
import { parseOptions } from "./usage-error.js";

const optionsSchema = z.object({
  out: z.string().min(1).optional(),
  zip: z.string().min(1).optional(),
  license: z.url({ error: "--license must be a URL (e.g. https://spdx.org/licenses/CC-BY-4.0)" }).optional(),
});

const HELP_AFTER = `
Writes an RO-Crate 1.1 that conforms to the Provenance Run Crate profile 0.5
(https://w3id.org/ro/wfrun/provenance/0.5): ro-crate-metadata.json, the replay's manifest.json
(and its JSON Schema), attestation.intoto.json when the replay was signed, workflow.json (the
recorded chain), each step's script under code/, and the bytes of every artifact the replay
consumed or produced under artifacts/. Each step is a CreateAction (instrument: its script or
replay-runner's handler; containerImage: its environment image; object: its inputs; result:
its output; start and end times; actionStatus) with its verdict in words, and a ControlAction
of the workflow's HowToStep; every file carries its sha256 and contentSize.

The argument is a replay id (its output folder is looked up in the registry) or a replay's
output folder. The registry (--db/--home) supplies the chain: scripts, parameters, artifact rows.
--out must be new or empty; with only --zip, the crate is built in a temporary folder beside it.

${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.integrity, EXIT.output, EXIT.internal])}`;

async function isFolder(candidate: string): Promise<boolean> {
  return stat(candidate).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

export function registerExportCrateCommand(program: Command): void {
  program
    .command("export-crate")
    .description("export a replay as an RO-Crate (Provenance Run Crate profile)")
    .argument("<replay>", "a replay id, or a replay's output folder")
    .option("--out <dir>", "the crate's folder (new or empty)")
    .option("--zip <file>", "also (or only) write the crate as a zip file")
    .option("--license <url>", "the license of the crate's content (default: says none is recorded)")
    .addHelpText("after", HELP_AFTER)
    .action(async (replay: string, raw: unknown, command: Command) => {
      const opts = parseOptions(optionsSchema, raw, "export-crate");
      if (opts.out === undefined && opts.zip === undefined) {
        throw new ReplayError("USAGE", "export-crate needs --out DIR, --zip FILE, or both.", {
          hint: "See `replay-runner export-crate --help`.",
        });
      }
      const settings = settingsOf(command);
      const { exportRunCrate, outDirOfReplay } = await import("../evidence/index.js");
      const result = await withRegistry(settings, {}, async (db) =>
        exportRunCrate({
          outDir: (await isFolder(replay)) ? replay : await outDirOfReplay(db, replay),
          db,
          blobRoot: settings.blobRoot,
          toolVersion: VERSION,
          dest: opts.out,
          zip: opts.zip,
          license: opts.license,
        }),
      );
      const where = [result.dir, result.zip].filter((w) => w !== null).join(" and ");
      process.stdout.write(`crate: ${where} (${result.actions} CreateActions, ${result.files} files)\n`);
    });
}
