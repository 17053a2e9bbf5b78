/** The rows one record command writes, in the contract's column names' meaning. */
import type { EnvironmentColumns } from "../hashing/index.js";

export interface NewArtifact {
  id: string;
  artifactType: string;
  title: string | null;
  contentHash: string;
  sizeBytes: number;
  mediaType: string | null;
  metadata: Record<string, unknown>;
}

export interface NewEnvironment extends EnvironmentColumns {
  envHash: string;
}

export interface NewStep {
  id: string;
  /** NULL for ingest; the input at position 0 for steps with named inputs. */
  sourceArtifactId: string | null;
  stepType: string;
  method: string;
  parameters: Record<string, unknown>;
  inputHash: string | null;
  envHash: string | null;
  startedAt: Date;
  completedAt: Date;
  /** processing_step_inputs rows in position order; empty for single-input and ingest steps. */
  inputRows: { name: string; artifactId: string }[];
}

/**
 * The step row of a built-in step over one source artifact (fork, cite): no environment, no
 * input rows, input_hash the source's content hash.
 */
export function singleSourceStep(
  id: string,
  source: { id: string; contentHash: string },
  step: { stepType: string; method: string; parameters: Record<string, unknown>; startedAt: Date },
): NewStep {
  return {
    id,
    sourceArtifactId: source.id,
    ...step,
    inputHash: source.contentHash,
    envHash: null,
    completedAt: new Date(),
    inputRows: [],
  };
}

/** Everything one command records: written together or not at all. */
export interface NewRecord {
  artifact: NewArtifact;
  step: NewStep;
  environment: NewEnvironment | null;
}
