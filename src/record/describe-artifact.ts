/**
 * `show`: one artifact, the step that produced it and where its payload lives. Local on
 * purpose: unlike `lineage` it reads no upstream rows, so it works on a broken chain too.
 */
import type { BlobCheck, BlobStore } from "../blobs/index.js";
import {
  environmentRowSchema,
  environmentStateOf,
  parseRowOrThrow,
  stepInputRowSchema,
  stepRowSchema,
  type Artifact,
  type Environment,
  type EnvironmentState,
  type Step,
} from "../chain/index.js";
import type { SqlQueryable } from "../db/index.js";
import { loadArtifact } from "./load-artifacts.js";

export interface ArtifactDescription {
  artifact: Artifact;
  /** Every step that claims to produce it: normally one; none for unproduced artifacts. */
  producers: { step: Step; environment: EnvironmentState }[];
  blob: { path: string; check: BlobCheck };
}

export async function describeArtifact(
  db: SqlQueryable,
  blobs: BlobStore,
  id: string,
): Promise<ArtifactDescription> {
  const artifact = await loadArtifact(db, id);
  // As JSON, like the walk: a started_at beyond what the drivers' Date holds arrives as its text.
  const stepRows = await db.query<{ row: { id: string } }>(
    "SELECT to_jsonb(s) AS row FROM processing_steps s WHERE target_artifact_id = $1 ORDER BY id",
    [id],
  );
  const producers: ArtifactDescription["producers"] = [];
  for (const { row } of stepRows) {
    const step = parseRowOrThrow(stepRowSchema, "processing_steps", row.id, row);
    const inputRows = await db.query(
      "SELECT * FROM processing_step_inputs WHERE step_id = $1 ORDER BY position",
      [step.id],
    );
    step.inputRows = inputRows.map((r, i) => {
      const parsed = parseRowOrThrow(stepInputRowSchema, "processing_step_inputs", `${step.id}#${i}`, r);
      return { position: parsed.position, name: parsed.name, artifactId: parsed.artifactId };
    });
    const environments = new Map<string, Environment>();
    if (step.envHash !== null) {
      const [env] = await db.query("SELECT * FROM environments WHERE env_hash = $1", [step.envHash]);
      if (env !== undefined)
        environments.set(
          step.envHash,
          parseRowOrThrow(environmentRowSchema, "environments", step.envHash, env),
        );
    }
    producers.push({ step, environment: environmentStateOf(step.envHash, environments) });
  }
  return {
    artifact,
    producers,
    blob: { path: blobs.pathFor(artifact.contentHash), check: await blobs.check(artifact.contentHash) },
  };
}
