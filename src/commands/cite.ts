/** `replay-runner cite <artifact-id> --doi ... --title ...`: a citation record for an artifact. */
import type { Command } from "commander";
import { z } from "zod";
import { BlobStore } from "../blobs/index.js";
import { EXIT, exitCodesHelp } from "../errors/index.js";
import { recordCitation, userArtifactId, withRecordRegistry } from "../record/index.js";
import { settingsOf } from "./command-context.js";
import { reportRecorded } from "./record-output.js";
import { collect, parseOptions } from "./usage-error.js";

const HELP_AFTER = `
Records a citation artifact (artifact_type citation, application/json) whose payload is the
cite handler's bytes: the RFC 8785 canonical JSON of {"doi", "title", "authors"} plus
"cites": <the source's content_hash>, and one newline. parameters hold doi, title and
authors (authors left out when none is given). Prints the new artifact id.`;

const optionsSchema = z.object({
  doi: z
    .string({ error: "--doi is required, e.g. --doi 10.5281/zenodo.1234567" })
    .regex(
      /^10\.\d{4,9}\/\S+$/,
      "--doi must be a DOI such as 10.5281/zenodo.1234567 (no https://doi.org/ prefix)",
    ),
  title: z.string({ error: "--title is required" }).min(1, "--title must not be empty"),
  author: z.array(z.string().min(1, "--author must not be empty")).default([]),
  id: userArtifactId.optional(),
});

export function registerCiteCommand(program: Command): void {
  program
    .command("cite")
    .description("record a citation (DOI, title, authors) for an artifact (a cite step); prints its id")
    .argument("<artifact-id>", "the artifact cited")
    .option("--doi <doi>", "the DOI, e.g. 10.5281/zenodo.1234567")
    .option("--title <title>", "the title of the cited work")
    .option("--author <name>", "an author (repeat for several, in order)", collect)
    .option("--id <artifact-id>", "choose the artifact id instead of a random art-<12 hex>")
    .addHelpText("after", HELP_AFTER)
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.integrity, EXIT.output, EXIT.internal])}`,
    )
    .action(async (sourceId: string, raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw, "cite");
      const settings = settingsOf(command);
      const blobs = new BlobStore(settings.blobRoot);
      const record = await withRecordRegistry(settings, (db) =>
        recordCitation(
          { db, blobs },
          { sourceId, doi: options.doi, title: options.title, authors: options.author, id: options.id },
        ),
      );
      reportRecorded(record);
    });
}
