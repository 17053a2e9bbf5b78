/**
 * The per-artifact history in replay-runner's own schema (migration 6): written once per
 * finished replay or batch (one INSERT for any number of artifacts), read newest first.
 */
import { z } from "zod";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import type { HistoryEntry } from "./history-entry.js";

const rowSchema = z.object({
  artifact_id: z.string(),
  run_id: z.string(),
  run_kind: z.enum(["replay", "batch"]),
  verified_at: z.union([z.date(), z.string()]).transform((v) => new Date(v).toISOString()),
  verdict: z.enum(["reproduced", "not_reproduced"]),
  content_hash: z.string(),
  tool_version: z.string(),
  images: z.array(z.object({ step_id: z.string(), ref: z.string(), id: z.string() })),
  origins: z.array(z.object({ step_id: z.string(), reason: z.string() })),
});

/** Adds the entries (a replay or batch retried under its id replaces its rows). */
export async function recordHistory(db: SqlQueryable, entries: readonly HistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO replay_runner.artifact_history
       (artifact_id, run_id, run_kind, verified_at, verdict, content_hash, tool_version, images, origins)
     SELECT x.artifact_id, x.run_id, x.run_kind, x.verified_at, x.verdict, x.content_hash, x.tool_version,
            x.images, x.origins
     FROM jsonb_to_recordset($1::jsonb) AS x(artifact_id text, run_id text, run_kind text, verified_at timestamptz,
       verdict text, content_hash text, tool_version text, images jsonb, origins jsonb)
     ON CONFLICT (artifact_id, run_id) DO UPDATE SET verified_at = EXCLUDED.verified_at, verdict = EXCLUDED.verdict,
       content_hash = EXCLUDED.content_hash, tool_version = EXCLUDED.tool_version, images = EXCLUDED.images,
       origins = EXCLUDED.origins`,
    [JSON.stringify(entries)],
  );
}

function parseRows(rows: unknown[]): HistoryEntry[] {
  return rows.map((row) => {
    const parsed = rowSchema.safeParse(row);
    if (!parsed.success)
      throw new ReplayError("INTERNAL", "A row of replay_runner.artifact_history is malformed.", {
        details: { issues: parsed.error.issues.map((i) => i.message) },
      });
    return parsed.data;
  });
}

/** The artifact's history, newest first (at most `limit` entries). */
export async function readHistory(
  db: SqlQueryable,
  artifactId: string,
  limit = 1000,
): Promise<HistoryEntry[]> {
  const rows = await db.query(
    `SELECT artifact_id, run_id, run_kind, verified_at, verdict, content_hash, tool_version, images, origins
     FROM replay_runner.artifact_history WHERE artifact_id = $1
     ORDER BY verified_at DESC, run_id DESC LIMIT $2`,
    [artifactId, limit],
  );
  return parseRows(rows);
}

/** The latest entry, or null when the artifact was never verified. */
export async function latestVerification(db: SqlQueryable, artifactId: string): Promise<HistoryEntry | null> {
  return (await readHistory(db, artifactId, 1))[0] ?? null;
}
