/** `replay-runner fork <artifact-id>`: a new artifact with the source's exact bytes. */
import type { Command } from "commander";
import { z } from "zod";
import { BlobStore } from "../blobs/index.js";
import { EXIT, exitCodesHelp } from "../errors/index.js";
import { recordFork, userArtifactId, withRecordRegistry } from "../record/index.js";
import { settingsOf } from "./command-context.js";
import { reportRecorded } from "./record-output.js";
import { parseOptions } from "./usage-error.js";

const HELP_AFTER = `
Copies the source's payload with the fork handler's own streaming copy (so the recorded
bytes are what a replay produces), checks they still hash to the source's content_hash, and
records the new artifact and its fork step in one transaction. Prints the new artifact id.`;

const optionsSchema = z.object({
  type: z.string().min(1, "--type must not be empty").optional(),
  title: z.string().optional(),
  id: userArtifactId.optional(),
});

export function registerForkCommand(program: Command): void {
  program
    .command("fork")
    .description("record a new artifact with the exact bytes of another (a fork step); prints its id")
    .argument("<artifact-id>", "the artifact to fork")
    .option("--type <artifact-type>", "artifacts.artifact_type (default: the source's)")
    .option("--title <title>", "artifacts.title (default: the source's title + ' (fork)')")
    .option("--id <artifact-id>", "choose the artifact id instead of a random art-<12 hex>")
    .addHelpText("after", HELP_AFTER)
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.integrity, EXIT.output, EXIT.internal])}`,
    )
    .action(async (sourceId: string, raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw, "fork");
      const settings = settingsOf(command);
      const blobs = new BlobStore(settings.blobRoot);
      const record = await withRecordRegistry(settings, (db) =>
        recordFork(
          { db, blobs },
          { sourceId, artifactType: options.type, title: options.title, id: options.id },
        ),
      );
      reportRecorded(record);
    });
}
