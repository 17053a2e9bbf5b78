/**
 * The `--json` form of a chain (`replay-runner lineage --json`). A stable, documented shape for
 * scripts: keys are the contract's column names (snake_case); every key is always present,
 * null when it does not apply, so `jq` filters never meet a missing member.
 *
 *   {
 *     "target": ArtifactJson,
 *     "steps": [StepJson, ...],             // producers before consumers, ties by step id
 *     "unproduced_artifacts": [ArtifactJson] // in the chain, produced by no step; by id
 *   }
 */
import type { Artifact, Chain, ChainStep, EnvironmentState } from "./types.js";

/** An artifacts row. Timestamps are ISO 8601 UTC with milliseconds. */
export interface ArtifactJson {
  id: string;
  artifact_type: string;
  title: string | null;
  content_hash: string;
  size_bytes: number | null;
  media_type: string | null;
  created_at: string;
  metadata: Record<string, unknown>;
}

export interface EnvironmentJson {
  /** pinned | unpinned (env_hash NULL) | missing (no environments row) | altered (columns do not hash to env_hash) | invalid (base_image is no image reference) */
  state: EnvironmentState["kind"];
  env_hash: string | null;
  base_image: string | null;
  lockfile_kind: string | null;
  requirements_lock: string | null;
  /** altered only: what the row's columns hash to now. */
  actual_hash: string | null;
  /** invalid only: what is wrong with base_image. */
  problem?: string;
}

/** A processing_steps row, plus what the walk resolved for it. */
export interface StepJson {
  id: string;
  step_type: string;
  method: string;
  source_artifact_id: string | null;
  target_artifact_id: string;
  parameters: unknown;
  input_hash: string | null;
  env_hash: string | null;
  trace_id: string | null;
  started_at: string | null;
  completed_at: string | null;
  /** True when the step has processing_step_inputs rows. */
  multi_input: boolean;
  /** In order: the rows of processing_step_inputs, or one input named `source`, or none (ingest). */
  inputs: { name: string; artifact_id: string }[];
  environment: EnvironmentJson;
  /** Steps of this chain that produced this step's inputs. */
  upstream_step_ids: string[];
  target: ArtifactJson;
}

export interface ChainJson {
  target: ArtifactJson;
  steps: StepJson[];
  unproduced_artifacts: ArtifactJson[];
}

export function artifactToJson(a: Artifact): ArtifactJson {
  return {
    id: a.id,
    artifact_type: a.artifactType,
    title: a.title,
    content_hash: a.contentHash,
    size_bytes: a.sizeBytes,
    media_type: a.mediaType,
    created_at: a.createdAt.toISOString(),
    metadata: a.metadata,
  };
}

export function environmentToJson(state: EnvironmentState): EnvironmentJson {
  const none = {
    env_hash: null,
    base_image: null,
    lockfile_kind: null,
    requirements_lock: null,
    actual_hash: null,
  };
  switch (state.kind) {
    case "unpinned":
      return { state: state.kind, ...none };
    case "missing":
      return { state: state.kind, ...none, env_hash: state.envHash };
    case "pinned":
    case "altered":
    case "invalid": {
      const e = state.environment;
      return {
        state: state.kind,
        env_hash: e.envHash,
        base_image: e.baseImage,
        lockfile_kind: e.lockfileKind,
        requirements_lock: e.requirementsLock,
        actual_hash: state.kind === "altered" ? state.actualHash : null,
        ...(state.kind === "invalid" ? { problem: state.problem } : {}),
      };
    }
  }
}

function stepToJson(cs: ChainStep): StepJson {
  const s = cs.step;
  return {
    id: s.id,
    step_type: s.stepType,
    method: s.method,
    source_artifact_id: s.sourceArtifactId,
    target_artifact_id: s.targetArtifactId,
    parameters: s.parameters,
    input_hash: s.inputHash,
    env_hash: s.envHash,
    trace_id: s.traceId,
    started_at: s.startedAt?.toISOString() ?? s.startedAtText,
    completed_at: s.completedAt?.toISOString() ?? null,
    multi_input: cs.multiInput,
    inputs: cs.inputs.map((i) => ({ name: i.name, artifact_id: i.artifact.id })),
    environment: environmentToJson(cs.environment),
    upstream_step_ids: cs.upstreamStepIds,
    target: artifactToJson(cs.target),
  };
}

export function chainToJson(chain: Chain): ChainJson {
  return {
    target: artifactToJson(chain.target),
    steps: chain.steps.map(stepToJson),
    unproduced_artifacts: chain.unproducedArtifacts.map(artifactToJson),
  };
}
