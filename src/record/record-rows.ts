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

/** Everything one command records: written together or not at all. */
export interface NewRecord {
  artifact: NewArtifact;
  step: NewStep;
  environment: NewEnvironment | null;
}
