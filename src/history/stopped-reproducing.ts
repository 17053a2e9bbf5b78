/**
 * Artifacts that stopped reproducing: their latest verification did not reproduce, the one
 * before it did. One query over the history, whatever its size is read once per artifact.
 */
import { z } from "zod";
import type { SqlQueryable } from "../db/index.js";

export interface StoppedReproducing {
  artifact_id: string;
  /** The run that found it not reproduced, and when. */
  run_id: string;
  verified_at: string;
  /** The last run in which it reproduced. */
  last_reproduced_run_id: string;
}

const rowSchema = z.object({
  artifact_id: z.string(),
  run_id: z.string(),
  verified_at: z.union([z.date(), z.string()]).transform((v) => new Date(v).toISOString()),
  last_reproduced_run_id: z.string(),
});

export async function stoppedReproducing(db: SqlQueryable, limit = 200): Promise<StoppedReproducing[]> {
  const rows = await db.query(
    `SELECT artifact_id, run_id, verified_at, prev_run AS last_reproduced_run_id FROM (
       SELECT artifact_id, run_id, verdict, verified_at,
         lag(verdict) OVER w AS prev_verdict, lag(run_id) OVER w AS prev_run,
         row_number() OVER (PARTITION BY artifact_id ORDER BY verified_at DESC, run_id DESC) AS latest
       FROM replay_runner.artifact_history
       WINDOW w AS (PARTITION BY artifact_id ORDER BY verified_at, run_id)
     ) h
     WHERE latest = 1 AND verdict = 'not_reproduced' AND prev_verdict = 'reproduced'
     ORDER BY verified_at DESC, artifact_id LIMIT $1`,
    [limit],
  );
  return rows.flatMap((row) => {
    const parsed = rowSchema.safeParse(row);
    return parsed.success ? [parsed.data] : [];
  });
}
