/** A replay's manifest from its final rows: `rerun` writes one, `verify` one per target. */
import type { Artifact } from "../chain/types.js";
import type { TriageCounts } from "../diagnose/index.js";
import type { Divergence } from "./divergence.js";
import {
  MANIFEST_VERSION,
  summarise,
  type FrozenInput,
  type Manifest,
  type ManifestStep,
} from "./manifest.js";

export interface ManifestParts {
  replayId: string;
  toolVersion: string;
  target: Artifact;
  registry: string;
  options: Manifest["options"];
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
  rows: ManifestStep[];
  divergence: Divergence;
  triaged?: TriageCounts | undefined;
  frozen: Iterable<FrozenInput>;
  warnings: string[];
}

export function buildManifest(parts: ManifestParts): Manifest {
  const { rows, triaged, target, startedAt, finishedAt, interrupted } = parts;
  const summary = triaged === undefined ? summarise(rows) : { ...summarise(rows), triage: triaged };
  return {
    manifest_version: MANIFEST_VERSION,
    replay_id: parts.replayId,
    tool: { name: "replay-runner", version: parts.toolVersion },
    target: {
      artifact_id: target.id,
      content_hash: target.contentHash,
      artifact_type: target.artifactType,
      title: target.title,
    },
    registry: parts.registry,
    options: parts.options,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - startedAt.getTime(),
    status: interrupted ? "interrupted" : rows.every((r) => r.ok) ? "reproduced" : "not_reproduced",
    interrupted,
    summary,
    first_divergence: parts.divergence.first,
    divergence_origins: parts.divergence.origins,
    frozen_inputs: [...parts.frozen],
    warnings: parts.warnings,
    steps: rows,
  };
}

/** The options member of a manifest that ran without --from and triage (`verify`'s). */
export function plainOptions(options: { strict: boolean; diff: boolean; jobs: number }): Manifest["options"] {
  return {
    from: null,
    strict: options.strict,
    diff: options.diff,
    jobs: options.jobs,
    triage: "off",
    repeat: 2,
  };
}
