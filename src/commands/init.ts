/** `replay-runner init`: a registry ready to use, embedded or on PostgreSQL. Safe to run again. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import {
  CONTRACT_SCHEMA_SQL,
  CONTRACT_TABLES,
  MIGRATIONS,
  OWN_SCHEMA,
  migrate,
  type SqlClient,
} from "../db/index.js";
import { EXIT, exitCodesHelp } from "../errors/index.js";
import { settingsOf, withRegistry } from "./command-context.js";

const HELP_AFTER = `
Creates, when missing, the contract's four tables (artifacts, environments,
processing_steps, processing_step_inputs, with their indexes) and replay-runner's own schema
"${OWN_SCHEMA}" (brought up to the latest migration). Without --db or DATABASE_URL it
creates the embedded registry under <home>/registry (default ./.replay/registry).

Idempotent: existing tables and their rows are left as they are (CREATE TABLE IF NOT
EXISTS), so it is safe on a production PostgreSQL registry; it only ever adds
replay-runner's own schema there.`;

const countsSchema = z.object({
  artifacts: z.coerce.number(),
  processing_steps: z.coerce.number(),
  environments: z.coerce.number(),
});

async function existingContractTables(db: SqlClient): Promise<string[]> {
  const rows = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) ORDER BY 1`,
    [[...CONTRACT_TABLES]],
  );
  return rows.map((r) => r.table_name);
}

async function embeddedExists(dir: string): Promise<boolean> {
  try {
    await readFile(path.join(dir, "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

export function registerInitCommand(program: Command): void {
  program
    .command("init")
    .description(
      "create the registry's tables (embedded registry, or the PostgreSQL database of --db) and replay-runner's own schema",
    )
    .addHelpText("after", HELP_AFTER)
    .addHelpText("after", `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.internal])}`)
    .action(async (_options: unknown, command: Command) => {
      const settings = settingsOf(command);
      const embeddedBefore =
        settings.databaseUrl === null ? await embeddedExists(settings.embeddedDir) : true;
      const lines = await withRegistry(settings, { create: true }, async (db) => {
        const out: string[] = [];
        if (db.backend === "embedded") {
          out.push(
            `${embeddedBefore ? "Using the existing" : "Created the"} embedded registry at ${settings.embeddedDir}`,
          );
        } else {
          out.push(`Using the PostgreSQL registry ${db.description}`);
        }
        const before = await existingContractTables(db);
        // The contract's DDL is all IF NOT EXISTS: existing production tables and rows stay untouched.
        await db.exec(CONTRACT_SCHEMA_SQL);
        const missing = CONTRACT_TABLES.filter((t) => !before.includes(t));
        if (missing.length > 0) out.push(`Created the contract tables: ${missing.join(", ")}`);
        if (before.length > 0) {
          const [raw] = await db.query(
            `SELECT (SELECT COUNT(*) FROM artifacts) AS artifacts, (SELECT COUNT(*) FROM processing_steps) AS processing_steps,
                    (SELECT COUNT(*) FROM environments) AS environments`,
          );
          const parsed = countsSchema.safeParse(raw);
          const counts = parsed.success
            ? ` (${parsed.data.artifacts} artifacts, ${parsed.data.processing_steps} processing steps, ${parsed.data.environments} environments)`
            : "";
          out.push(`Left the existing contract tables unchanged: ${before.join(", ")}${counts}`);
        }
        const applied = await migrate(db);
        const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
        out.push(
          applied.length > 0
            ? `Applied replay-runner migrations ${applied.join(", ")} in schema ${OWN_SCHEMA} (now at version ${latest})`
            : `replay-runner's schema ${OWN_SCHEMA} is up to date (version ${latest})`,
        );
        return out;
      });
      process.stdout.write(`${lines.join("\n")}\nThe registry is ready.\n`);
    });
}
