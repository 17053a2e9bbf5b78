/**
 * Which artifacts a batch verifies: named ones, or every artifact (--all), narrowed by type and
 * by when the registry recorded them, then optionally a reproducible sample. One query for the
 * selection, one more to name the ids that are not in the registry.
 */
import { createHash } from "node:crypto";
import { compareIds } from "../chain/index.js";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";

export interface TargetSelection {
  /** Named artifacts; empty with --all. */
  artifactIds: readonly string[];
  all: boolean;
  type?: string | undefined;
  /** artifacts.created_at at or after this instant. */
  recordedSince?: Date | undefined;
  sample?: { size: number; seed: string } | undefined;
}

/** A batch's targets and its step budget (`verify`'s selection options, `serve --verify-selection`). */
export interface BatchSelection {
  selection: TargetSelection;
  maxSteps?: number | undefined;
}

const SELECT_SQL = `
SELECT id FROM artifacts
WHERE ($1::boolean OR id IN (SELECT jsonb_array_elements_text($2::jsonb)))
  AND ($3::text IS NULL OR artifact_type = $3)
  AND ($4::timestamptz IS NULL OR created_at >= $4::timestamptz)`;

const KNOWN_SQL = `SELECT id FROM artifacts WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`;

/** The selection's description, for messages, batch.json and the verifications row. */
export function describeSelection(selection: TargetSelection, maxSteps?: number): string {
  const parts = [selection.all ? "every artifact" : `${selection.artifactIds.length} named artifact(s)`];
  if (selection.type !== undefined) parts.push(`of type ${JSON.stringify(selection.type)}`);
  if (selection.recordedSince !== undefined)
    parts.push(`recorded since ${selection.recordedSince.toISOString()}`);
  let text = parts.join(" ");
  if (selection.sample !== undefined)
    text += `, a sample of ${selection.sample.size} (seed ${JSON.stringify(selection.sample.seed)})`;
  if (maxSteps !== undefined) text += `, at most ${maxSteps} step(s)`;
  return text;
}

/**
 * A sample that depends only on the seed and the ids: each id ranked by SHA-256(seed, id), the
 * first `size` kept. The same seed over the same selection gives the same sample on any machine.
 */
export function sampleIds(ids: readonly string[], size: number, seed: string): string[] {
  const rank = (id: string) => createHash("sha256").update(seed).update("\0").update(id).digest("hex");
  return [...ids]
    .map((id) => ({ id, rank: rank(id) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, size)
    .map((r) => r.id)
    .sort(compareIds);
}

/** The selected artifact ids, sorted; throws USAGE / NOT_FOUND (exit 2) for a bad or empty selection. */
export async function selectTargets(db: SqlQueryable, selection: TargetSelection): Promise<string[]> {
  const named = [...new Set(selection.artifactIds)];
  if (named.length > 0) {
    const known = new Set(
      (await db.query<{ id: string }>(KNOWN_SQL, [JSON.stringify(named)])).map((r) => r.id),
    );
    const unknown = named.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new ReplayError(
        "NOT_FOUND",
        `There is no artifact ${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ""} in the registry.`,
        {
          hint: "Check the ids (artifacts.id, case-sensitive), and that --db / DATABASE_URL points at the right registry.",
          details: { unknown },
        },
      );
    }
  }
  const rows = await db.query<{ id: string }>(SELECT_SQL, [
    selection.all,
    JSON.stringify(named),
    selection.type ?? null,
    selection.recordedSince?.toISOString() ?? null,
  ]);
  const ids = rows.map((r) => r.id).sort(compareIds);
  if (ids.length === 0) {
    throw new ReplayError(
      "USAGE",
      `The selection is empty: ${describeSelection(selection)} matched no artifact.`,
      {
        hint: "Widen it (another --type, an earlier --recorded-since), or name the artifacts to verify.",
        details: { selection: describeSelection(selection) },
      },
    );
  }
  return selection.sample === undefined ? ids : sampleIds(ids, selection.sample.size, selection.sample.seed);
}
