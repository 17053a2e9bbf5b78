/** `replay-runner add <file>`: record an external file as a frozen input (an ingest step). */
import type { Command } from "commander";
import { z } from "zod";
import { BlobStore } from "../blobs/index.js";
import { EXIT, exitCodesHelp } from "../errors/index.js";
import { recordIngest, userArtifactId, withRecordRegistry } from "../record/index.js";
import { settingsOf } from "./command-context.js";
import { reportRecorded } from "./record-output.js";
import { parseOptions } from "./usage-error.js";

const HELP_AFTER = `
Streams <file> into the blob store (content-addressed, written to a temporary name and
renamed into place) and records, in one transaction, an artifact and the ingest step that
brought it in (parameters.source_url when given, no input, input_hash NULL). Prints the new
artifact id on stdout: art-<12 hex digits>, or the --id you chose.

Writes to the registry of --db / DATABASE_URL, else to the embedded registry under
<home>/registry (created when missing, default ./.replay).`;

const optionsSchema = z.object({
  type: z.string().min(1, "--type must not be empty").default("dataset"),
  title: z.string().optional(),
  sourceUrl: z.url({ error: "--source-url must be a URL, e.g. https://example.org/data.csv" }).optional(),
  mediaType: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, "--media-type must look like type/subtype, e.g. text/csv")
    .optional(),
  id: userArtifactId.optional(),
});

export function registerAddCommand(program: Command): void {
  program
    .command("add")
    .description("record a file as a new artifact brought in by an ingest step; prints its id")
    .argument("<file>", "the file to record (streamed, any size)")
    .option("--type <artifact-type>", "artifacts.artifact_type", "dataset")
    .option("--title <title>", "artifacts.title (default: the file name)")
    .option("--source-url <url>", "where the file came from (parameters.source_url of the ingest step)")
    .option(
      "--media-type <type>",
      "artifacts.media_type (default: guessed from the extension, e.g. text/csv)",
    )
    .option("--id <artifact-id>", "choose the artifact id instead of a random art-<12 hex>")
    .addHelpText("after", HELP_AFTER)
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.output, EXIT.internal])}`,
    )
    .action(async (file: string, raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw, "add");
      const settings = settingsOf(command);
      const blobs = new BlobStore(settings.blobRoot);
      const record = await withRecordRegistry(settings, (db) =>
        recordIngest({ db, blobs }, { file, artifactType: options.type, ...options }),
      );
      reportRecorded(record);
    });
}
