/** The registry's rows as replay-runner sees them once validated (see chain/row-schemas.ts). */

export interface Artifact {
  id: string;
  artifactType: string;
  title: string | null;
  contentHash: string;
  sizeBytes: number | null;
  mediaType: string | null;
  createdAt: Date;
  metadata: Record<string, unknown>;
}

export interface Environment {
  envHash: string;
  baseImage: string;
  lockfileKind: string;
  requirementsLock: string;
}

/** A row of processing_step_inputs. */
export interface StepInputRow {
  position: number;
  name: string;
  artifactId: string;
}

export interface Step {
  id: string;
  sourceArtifactId: string | null;
  targetArtifactId: string;
  stepType: string;
  method: string;
  parameters: unknown;
  inputHash: string | null;
  envHash: string | null;
  traceId: string | null;
  /** Null when NULL, and when it is no point a Date holds (see startedAtText). */
  startedAt: Date | null;
  /** started_at in whole Unix seconds, truncated toward zero; null when NULL or ±infinity. */
  sourceDateEpoch: number | null;
  /** started_at as recorded when a Date cannot hold it (294276 AD, infinity); else null. */
  startedAtText: string | null;
  completedAt: Date | null;
  /** Rows of processing_step_inputs in position order; empty for single-input steps. */
  inputRows: StepInputRow[];
}

/** How a step's environment stands in the registry. */
export type EnvironmentState =
  | { kind: "unpinned" } // env_hash is NULL: ran outside the sandbox
  | { kind: "pinned"; environment: Environment }
  | { kind: "missing"; envHash: string } // env_hash points at no environments row
  | { kind: "altered"; environment: Environment; actualHash: string } // columns no longer hash to the key
  | { kind: "invalid"; environment: Environment; problem: string }; // base_image is no image reference

export interface ChainInput {
  /** File name under /in/: `source` for single-input steps, the row's name otherwise. */
  name: string;
  artifact: Artifact;
}

export interface ChainStep {
  step: Step;
  target: Artifact;
  /** Resolved inputs in order: none (ingest), the source, or the input rows. */
  inputs: ChainInput[];
  /** True when the step has processing_step_inputs rows (input_hash uses the lines form). */
  multiInput: boolean;
  environment: EnvironmentState;
  /** Ids of the steps that produced this step's inputs (within the chain). */
  upstreamStepIds: string[];
}

export interface Chain {
  target: Artifact;
  /** Every step upstream of (and including the producer of) the target, producers first. */
  steps: ChainStep[];
  artifacts: ReadonlyMap<string, Artifact>;
  /** Artifacts in the chain that no step produced: inputs taken as they are, with a warning. */
  unproducedArtifacts: Artifact[];
}
