/** `replay-runner history <artifact-id>`: when the artifact was verified, and what came of it. */
import type { Command } from "commander";
import { z } from "zod";
import { EXIT, exitCodesHelp } from "../errors/index.js";
import { currentContentHash, readHistory, timelineSentence, type HistoryEntry } from "../history/index.js";
import { visibleJson, visibleText } from "../terminal/index.js";
import { settingsOf, withRegistry } from "./command-context.js";
import { parseOptions } from "./usage-error.js";

const optionsSchema = z.object({ json: z.boolean().default(false) });

function historyText(artifactId: string, entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return `${visibleText(artifactId)}: never verified\n`;
  const lines = entries.map(
    (e) =>
      `${e.verified_at}  ${visibleText(timelineSentence(e))}  (${e.run_kind} ${visibleText(e.run_id)}, replay-runner ${visibleText(e.tool_version)})`,
  );
  return `${visibleText(artifactId)}: ${entries.length} verification(s), newest first\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
}

export function registerHistoryCommand(program: Command): void {
  program
    .command("history")
    .description("the artifact's reproducibility history: each finished rerun or verify, newest first")
    .argument("<artifact-id>", "the artifact")
    .option(
      "--json",
      'print {"artifact_id", "content_hash", "history": [{verified_at, verdict, run_id, run_kind, images, origins, ...}]}',
    )
    .addHelpText("after", `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.internal])}`)
    .action(async (artifactId: string, raw: unknown, command: Command) => {
      const opts = parseOptions(optionsSchema, raw, "history");
      const { contentHash, entries } = await withRegistry(
        settingsOf(command),
        { migrate: true },
        async (db) => ({
          contentHash: await currentContentHash(db, artifactId),
          entries: await readHistory(db, artifactId),
        }),
      );
      process.stdout.write(
        opts.json
          ? `${visibleJson({ artifact_id: artifactId, content_hash: contentHash, history: entries })}\n`
          : historyText(artifactId, entries),
      );
    });
}
