/** `cite`: a citation record for an artifact, with the cite handler's own bytes. */
import { Readable } from "node:stream";
import type { BlobStore } from "../blobs/index.js";
import type { SqlClient } from "../db/index.js";
import { citationBytes } from "../handlers/index.js";
import { VERSION } from "../version.js";
import { loadArtifact } from "./load-artifacts.js";
import { newArtifactId, newStepId } from "./record-ids.js";
import { singleSourceStep, type NewRecord } from "./record-rows.js";
import { assertArtifactIdFree, writeRecord } from "./write-record.js";

export interface CiteRequest {
  sourceId: string;
  doi: string;
  title: string;
  authors: string[];
  id?: string | undefined;
}

/** `parameters` of the cite step: what the citation says, without `cites` (the handler adds it). */
export function citationParameters(
  request: Pick<CiteRequest, "doi" | "title" | "authors">,
): Record<string, unknown> {
  return request.authors.length > 0
    ? { doi: request.doi, title: request.title, authors: request.authors }
    : { doi: request.doi, title: request.title };
}

export async function recordCitation(
  deps: { db: SqlClient; blobs: BlobStore },
  request: CiteRequest,
): Promise<NewRecord> {
  // A citation only needs the source's recorded hash; its blob is not read (as in the replay).
  await assertArtifactIdFree(deps.db, request.id);
  const source = await loadArtifact(deps.db, request.sourceId);
  const startedAt = new Date();
  const parameters = citationParameters(request);
  const bytes = citationBytes(parameters, source.contentHash);
  const stored = await deps.blobs.putStream(Readable.from([bytes]));
  const record: NewRecord = {
    artifact: {
      id: request.id ?? newArtifactId(),
      artifactType: "citation",
      title: `Citation: ${request.title}`,
      contentHash: stored.contentHash,
      sizeBytes: stored.size,
      mediaType: "application/json",
      metadata: { recorded_by: `replay-runner ${VERSION}` },
    },
    environment: null,
    step: singleSourceStep(newStepId(), source, {
      stepType: "cite",
      method: `cite ${source.id} as doi:${request.doi}`,
      parameters,
      startedAt,
    }),
  };
  await writeRecord(deps.db, record);
  return record;
}
