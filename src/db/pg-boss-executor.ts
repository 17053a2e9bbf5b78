/**
 * pg-boss talks to the database through our SqlClient (its `db.executeSql` option), so the pool,
 * the error translation and "only sql-client.ts imports pg" stay as they are. Both of our
 * pg-boss users (serve's replay jobs, queued batches' step jobs) share one schema.
 */
import type { SqlQueryable } from "./sql-client.js";

/** pg-boss's own tables, in a schema of replay-runner's (the contract's tables stay untouched). */
export const PG_BOSS_SCHEMA = "replay_runner_jobs";

export interface PgBossExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** `db` (a client, or a transaction: pg-boss's `send` takes one to send within it) as pg-boss's `db`. */
export function pgBossExecutor(db: SqlQueryable): PgBossExecutor {
  return {
    async executeSql(text: string, values?: unknown[]) {
      // A multi-statement text (pg-boss's migrations, locked maintenance) yields no rows.
      const rows = await db.query(text, (values ?? []) as never[]);
      return { rows: Array.isArray(rows) ? rows : [] };
    },
  };
}
