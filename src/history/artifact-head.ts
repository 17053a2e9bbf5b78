/** The artifact's row as the history needs it: that it exists, and its current content_hash. */
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";

export async function currentContentHash(db: SqlQueryable, artifactId: string): Promise<string> {
  const rows = await db.query<{ content_hash: unknown }>(`SELECT content_hash FROM artifacts WHERE id = $1`, [
    artifactId,
  ]);
  const hash = rows[0]?.content_hash;
  if (typeof hash !== "string") {
    throw new ReplayError("NOT_FOUND", `There is no artifact ${artifactId} in the registry.`, {
      hint: "Check the id (artifacts.id, case-sensitive), and that --db / DATABASE_URL points at the right registry.",
      details: { artifactId },
    });
  }
  return hash;
}
