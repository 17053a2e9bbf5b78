/** `replay-runner show <artifact-id>`: the artifact, its producing step and its payload. */
import type { Command } from "commander";
import { BlobStore } from "../blobs/index.js";
import { EXIT, ReplayError, exitCodesHelp } from "../errors/index.js";
import { describeArtifact, descriptionToJson, descriptionToText } from "../record/index.js";
import { visibleJson } from "../terminal/index.js";
import { settingsOf, withRegistry } from "./command-context.js";

interface ShowOptions {
  json?: boolean;
}

const HELP_AFTER = `
Prints the artifacts row, the path of its payload in the blob store and whether that blob
is intact (present, and its bytes still hash to content_hash), and the step that produced
it: step_type, method, inputs, input_hash, parameters, environment, times. It reads no
other rows: for the whole chain use \`replay-runner lineage\`.

--json prints {"artifact", "payload": {"path", "state", "size_bytes", "actual_hash"},
"produced_by": [step, ...]} with the contract's column names (see
src/record/description-output.ts).

Exit status: 0; 5 when the payload is missing or corrupted (the description is still
printed); 2 when the artifact id is unknown.`;

export function registerShowCommand(program: Command): void {
  program
    .command("show")
    .description("show an artifact, the step that produced it, and its payload's path and state")
    .argument("<artifact-id>", "the artifact (artifacts.id)")
    .option("--json", "print as JSON")
    .addHelpText("after", HELP_AFTER)
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.integrity, EXIT.internal])}`,
    )
    .action(async (artifactId: string, options: ShowOptions, command: Command) => {
      const settings = settingsOf(command);
      const blobs = new BlobStore(settings.blobRoot);
      const description = await withRegistry(settings, {}, (db) => describeArtifact(db, blobs, artifactId));
      process.stdout.write(
        options.json === true
          ? `${visibleJson(descriptionToJson(description))}\n`
          : descriptionToText(description),
      );
      const { check } = description.blob;
      if (check.state !== "intact") {
        throw new ReplayError(
          "INTEGRITY",
          check.state === "missing"
            ? `The payload of ${artifactId} is missing: ${check.path}.`
            : `The payload of ${artifactId} is corrupted: ${check.path} hashes to ${check.actualHash}.`,
          {
            hint: "Restore the blob's original bytes from a backup; replays of steps that read it will fail.",
          },
        );
      }
    });
}
