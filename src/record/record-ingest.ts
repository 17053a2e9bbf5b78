/** `add`: bring an external file in as a frozen input (an `ingest` step, no source). */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { BlobStore } from "../blobs/index.js";
import type { SqlClient } from "../db/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import { VERSION } from "../version.js";
import { mediaTypeFor } from "./media-types.js";
import { newArtifactId, newStepId } from "./record-ids.js";
import type { NewArtifact, NewRecord } from "./record-rows.js";
import { assertArtifactIdFree, writeRecord } from "./write-record.js";

export interface IngestRequest {
  file: string;
  artifactType: string;
  title?: string | undefined;
  sourceUrl?: string | undefined;
  mediaType?: string | undefined;
  id?: string | undefined;
}

export async function recordIngest(
  deps: { db: SqlClient; blobs: BlobStore },
  request: IngestRequest,
): Promise<NewRecord> {
  const file = path.resolve(request.file);
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error("not a regular file");
  } catch (error) {
    throw new ReplayError("USAGE", `Cannot add ${request.file}: ${messageOf(error)}.`, {
      hint: "Give the path of a regular file to record as a dataset.",
    });
  }
  await assertArtifactIdFree(deps.db, request.id);
  const startedAt = new Date();
  // Streamed through SHA-256 into a temporary blob, renamed into place: never whole in memory.
  const stored = await deps.blobs.putStream(createReadStream(file, { highWaterMark: 1 << 20 }));
  const completedAt = new Date();
  const name = path.basename(file);
  const artifact: NewArtifact = {
    id: request.id ?? newArtifactId(),
    artifactType: request.artifactType,
    title: request.title ?? name,
    contentHash: stored.contentHash,
    sizeBytes: stored.size,
    mediaType: request.mediaType ?? mediaTypeFor(name),
    metadata: { recorded_by: `replay-runner ${VERSION}`, file_name: name },
  };
  const record: NewRecord = {
    artifact,
    environment: null,
    step: {
      id: newStepId(),
      sourceArtifactId: null,
      stepType: "ingest",
      method: `ingest ${request.sourceUrl ?? name}`,
      parameters: request.sourceUrl === undefined ? {} : { source_url: request.sourceUrl },
      inputHash: null,
      envHash: null,
      startedAt,
      completedAt,
      inputRows: [],
    },
  };
  await writeRecord(deps.db, record);
  return record;
}
