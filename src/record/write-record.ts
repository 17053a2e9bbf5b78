/**
 * Writes one record (artifact, producing step, its input rows, its environment) in ONE
 * transaction: a command that fails anywhere leaves the registry exactly as it was.
 */
import type { SqlClient, SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import type { NewRecord } from "./record-rows.js";

async function exists(tx: SqlQueryable, sql: string, id: string): Promise<boolean> {
  return (await tx.query(sql, [id])).length > 0;
}

function idTaken(id: string): ReplayError {
  return new ReplayError("USAGE", `An artifact with id ${id} already exists.`, {
    hint: "Choose another --id, or leave --id out for a new random id (art-<12 hex>).",
    details: { artifactId: id },
  });
}

/** Refuses a user-chosen id early, before any work; writeRecord checks again inside its transaction. */
export async function assertArtifactIdFree(db: SqlQueryable, id: string | undefined): Promise<void> {
  if (id !== undefined && (await exists(db, "SELECT 1 FROM artifacts WHERE id = $1", id))) throw idTaken(id);
}

export async function writeRecord(db: SqlClient, record: NewRecord): Promise<void> {
  const { artifact, step, environment } = record;
  await db.transaction(async (tx) => {
    // Checked inside the transaction so the message names the id instead of a unique violation.
    if (await exists(tx, "SELECT 1 FROM artifacts WHERE id = $1", artifact.id)) {
      throw idTaken(artifact.id);
    }
    if (await exists(tx, "SELECT 1 FROM processing_steps WHERE id = $1", step.id)) {
      throw new ReplayError("INTERNAL", `A processing step with id ${step.id} already exists.`, {
        hint: "Step ids are random; run the command again.",
      });
    }
    if (environment !== null) {
      // Environments are keyed by their content: an existing row with this key is the same environment.
      await tx.query(
        `INSERT INTO environments (env_hash, base_image, lockfile_kind, requirements_lock)
         VALUES ($1, $2, $3, $4) ON CONFLICT (env_hash) DO NOTHING`,
        [environment.envHash, environment.baseImage, environment.lockfileKind, environment.requirementsLock],
      );
    }
    await tx.query(
      `INSERT INTO artifacts (id, artifact_type, title, content_hash, size_bytes, media_type, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [
        artifact.id,
        artifact.artifactType,
        artifact.title,
        artifact.contentHash,
        artifact.sizeBytes,
        artifact.mediaType,
        JSON.stringify(artifact.metadata),
      ],
    );
    await tx.query(
      `INSERT INTO processing_steps (id, source_artifact_id, target_artifact_id, step_type, method, parameters,
         input_hash, env_hash, trace_id, started_at, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, NULL, $9, $10)`,
      [
        step.id,
        step.sourceArtifactId,
        artifact.id,
        step.stepType,
        step.method,
        JSON.stringify(step.parameters),
        step.inputHash,
        step.envHash,
        step.startedAt,
        step.completedAt,
      ],
    );
    for (const [position, input] of step.inputRows.entries()) {
      await tx.query(
        "INSERT INTO processing_step_inputs (step_id, position, name, artifact_id) VALUES ($1, $2, $3, $4)",
        [step.id, position, input.name, input.artifactId],
      );
    }
  });
}
