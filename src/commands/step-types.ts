/** `replay-runner step-types`: which step types the registry holds, and which replay-runner handles. */
import type { Command } from "commander";
import { stepTypeCounts } from "../chain/index.js";
import { EXIT, exitCodesHelp } from "../errors/index.js";
import { isHandled } from "../handlers/index.js";
import { visibleJson, visibleText } from "../terminal/index.js";
import { settingsOf, withRegistry } from "./command-context.js";

interface StepTypesOptions {
  json?: boolean;
}

const HELP_AFTER = `
Columns: step_type, count (steps of that type in the registry), handled (yes when
replay-runner can re-execute or verify steps of that type; no when a replay reports them as
unreplayable). --json prints [{"step_type", "count", "handled": true|false}, ...], sorted by
step_type.`;

function table(rows: readonly string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  // The count column is right-aligned, like numbers in any table.
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === 1 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function registerStepTypesCommand(program: Command): void {
  program
    .command("step-types")
    .description("count the registry's steps by step_type and say which types replay-runner can replay")
    .option("--json", "print the rows as JSON")
    .addHelpText("after", HELP_AFTER)
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.internal])}`,
    )
    .action(async (options: StepTypesOptions, command: Command) => {
      const settings = settingsOf(command);
      const counts = await withRegistry(settings, {}, (db) => stepTypeCounts(db));
      if (options.json === true) {
        const rows = counts.map((c) => ({
          step_type: c.stepType,
          count: c.count,
          handled: isHandled(c.stepType),
        }));
        process.stdout.write(`${visibleJson(rows)}\n`);
        return;
      }
      const rows = counts.map((c) => [
        visibleText(c.stepType),
        String(c.count),
        isHandled(c.stepType) ? "yes" : "no",
      ]);
      process.stdout.write(`${table([["step_type", "count", "handled"], ...rows])}\n`);
    });
}
