/** `fork`: a new artifact with the source's exact bytes, made by the fork handler's own copy. */
import path from "node:path";
import type { BlobStore } from "../blobs/index.js";
import type { SqlClient } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import { copyHashed } from "../handlers/index.js";
import { VERSION } from "../version.js";
import { loadArtifact, loadInputs } from "./load-artifacts.js";
import { newArtifactId, newStepId } from "./record-ids.js";
import { singleSourceStep, type NewRecord } from "./record-rows.js";
import { scratchDir } from "./scratch-dir.js";
import { assertArtifactIdFree, writeRecord } from "./write-record.js";

export interface ForkRequest {
  sourceId: string;
  artifactType?: string | undefined;
  title?: string | undefined;
  id?: string | undefined;
}

export async function recordFork(
  deps: { db: SqlClient; blobs: BlobStore },
  request: ForkRequest,
): Promise<NewRecord> {
  await assertArtifactIdFree(deps.db, request.id);
  const source = await loadArtifact(deps.db, request.sourceId);
  const [input] = await loadInputs(deps.db, deps.blobs, [{ name: "source", artifactId: source.id }]);
  if (input === undefined) throw new ReplayError("INTERNAL", "fork: the source input was not loaded.");
  const startedAt = new Date();
  await using scratch = await scratchDir("rr-fork");
  const out = path.join(scratch.path, "output");
  // The same copy the fork handler replays with, so the recorded bytes are the replayed bytes.
  const copied = await copyHashed(input.file, out);
  if (copied.contentHash !== source.contentHash) {
    throw new ReplayError(
      "INTEGRITY",
      `The payload of artifact ${source.id} changed while it was being copied.`,
      {
        hint: "Something is writing to the blob store; blobs are written once and never modified. Try again.",
      },
    );
  }
  const stored = await deps.blobs.putFile(out, copied);
  const record: NewRecord = {
    artifact: {
      id: request.id ?? newArtifactId(),
      artifactType: request.artifactType ?? source.artifactType,
      title: request.title ?? (source.title === null ? null : `${source.title} (fork)`),
      contentHash: stored.contentHash,
      sizeBytes: stored.size,
      mediaType: source.mediaType,
      metadata: { recorded_by: `replay-runner ${VERSION}` },
    },
    environment: null,
    step: singleSourceStep(newStepId(), source, {
      stepType: "fork",
      method: `fork of ${source.id}`,
      parameters: {},
      startedAt,
    }),
  };
  await writeRecord(deps.db, record);
  return record;
}
