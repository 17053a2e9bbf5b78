/**
 * The artifacts a new step consumes, read from the registry and verified against the blob
 * store: a step recorded over bytes that do not match their recorded hash could never reproduce.
 */
import type { BlobStore } from "../blobs/index.js";
import { artifactRowSchema, parseRowOrThrow, type Artifact } from "../chain/index.js";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import type { ReplayInput } from "../handlers/index.js";

export async function loadArtifact(db: SqlQueryable, id: string): Promise<Artifact> {
  const rows = await db.query("SELECT * FROM artifacts WHERE id = $1", [id]);
  const [row] = rows;
  if (row === undefined) {
    throw new ReplayError("NOT_FOUND", `There is no artifact ${id} in the registry.`, {
      hint: "Check the id (`replay-runner show <id>`), or record the file first with `replay-runner add <file>`.",
      details: { artifactId: id },
    });
  }
  return parseRowOrThrow(artifactRowSchema, "artifacts", id, row);
}

/** Loads each named input and checks its blob is present and intact; returns what a step reads. */
export async function loadInputs(
  db: SqlQueryable,
  blobs: BlobStore,
  wanted: readonly { name: string; artifactId: string }[],
): Promise<ReplayInput[]> {
  const inputs: ReplayInput[] = [];
  for (const { name, artifactId } of wanted) {
    const artifact = await loadArtifact(db, artifactId);
    const check = await blobs.check(artifact.contentHash);
    if (check.state === "missing") {
      throw new ReplayError(
        "INTEGRITY",
        `The payload of artifact ${artifactId} is missing from the blob store: ${check.path}.`,
        {
          hint: "Restore the blob (or point REPLAY_BLOBS / --blobs at the store that holds it) before recording steps over it.",
          details: { artifactId, contentHash: artifact.contentHash, path: check.path },
        },
      );
    }
    if (check.state === "corrupted") {
      throw new ReplayError(
        "INTEGRITY",
        `The payload of artifact ${artifactId} is corrupted: ${check.path} hashes to ${check.actualHash}, not ${artifact.contentHash}.`,
        {
          hint: "Restore the blob's original bytes; a step recorded over altered bytes could never be reproduced.",
          details: {
            artifactId,
            contentHash: artifact.contentHash,
            actualHash: check.actualHash,
            path: check.path,
          },
        },
      );
    }
    inputs.push({
      name,
      artifactId,
      contentHash: artifact.contentHash,
      size: check.size,
      file: blobs.pathFor(artifact.contentHash),
    });
  }
  return inputs;
}
