/**
 * The registry a record command writes to. On the embedded default the contract's tables are
 * created when missing, so `add` works in an empty folder without `init`; a PostgreSQL
 * registry is the platform's and is never given DDL by a record command (run `init` there).
 */
import type { Settings } from "../config/index.js";
import { CONTRACT_SCHEMA_SQL, type SqlClient } from "../db/index.js";
import { withRegistry } from "../commands/command-context.js";

export function withRecordRegistry<T>(settings: Settings, work: (db: SqlClient) => Promise<T>): Promise<T> {
  return withRegistry(settings, { create: true, migrate: true }, async (db) => {
    if (db.backend === "embedded") await db.exec(CONTRACT_SCHEMA_SQL);
    return work(db);
  });
}
