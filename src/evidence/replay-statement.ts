/**
 * What a signed replay says: an in-toto Statement v1 whose predicate is a SLSA Verification
 * Summary Attestation v1, with the replay's per-step verdicts in an extra `replay` member of the
 * predicate (in-toto consumers ignore members they do not know). docs/decisions.md has why.
 */
import { isContentHash } from "../hashing/index.js";
import type { Manifest } from "../replay/index.js";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1";
export const POLICY_URI = "urn:replay-runner:policy:byte-identical:v1";
export const MANIFEST_SUBJECT = "manifest.json";

/** Our own level names (SLSA reserves the SLSA_ prefix for its tracks). */
export const LEVELS = {
  /** Every step's replayed output is byte-identical to the registry's, on inputs matching input_hash. */
  byteIdentical: "REPLAY_RUNNER_BYTE_IDENTICAL_V1",
  /** No --from: the chain was replayed from its sources, not from frozen intermediate payloads. */
  wholeChain: "REPLAY_RUNNER_WHOLE_CHAIN_V1",
  /** Every container step ran in an environment row whose columns hash to its env_hash. */
  pinnedEnvironments: "REPLAY_RUNNER_PINNED_ENVIRONMENTS_V1",
} as const;

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface ReplayStepVerdict {
  step_id: string;
  step_type: string;
  status: string;
  ok: boolean;
  reason: string | null;
  target_artifact_id: string;
  input_hash: string | null;
  input_hash_replayed: string | null;
  inputs: { name: string; artifact_id: string; content_hash: string; origin: string }[];
  env_hash: string | null;
  environment: string;
  image: { ref: string; id: string } | null;
  output_hash_live: string;
  output_hash_replayed: string | null;
}

export interface ReplayPredicate {
  verifier: { id: string; version: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string; name: string; annotations: Record<string, unknown> };
  verificationResult: "PASSED" | "FAILED";
  verifiedLevels: string[];
  replay: {
    replay_id: string;
    registry: string;
    target: { artifact_id: string; content_hash: string };
    status: string;
    started_at: string;
    finished_at: string;
    /** The subjects that are artifacts (by name), and the one that is the manifest file. */
    artifacts: string[];
    manifest: Subject;
    steps: ReplayStepVerdict[];
  };
}

export interface ReplayStatement {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: typeof VSA_PREDICATE_TYPE;
  predicate: ReplayPredicate;
}

export function resourceUriOf(artifactId: string): string {
  return `urn:replay-runner:artifact:${encodeURIComponent(artifactId)}`;
}

function hexOf(contentHash: string): string {
  return contentHash.slice("sha256:".length);
}

export interface StatementInput {
  manifest: Manifest;
  /** SHA-256 (hex) of manifest.json's bytes as written. */
  manifestSha256: string;
  verifierId: string;
  toolVersion: string;
}

export function replayStatement({
  manifest,
  manifestSha256,
  verifierId,
  toolVersion,
}: StatementInput): ReplayStatement {
  const passed = manifest.status === "reproduced";
  // The target, and every artifact whose bytes this replay re-created (or, for ingest, found intact).
  const recreated = new Map<string, string>();
  if (isContentHash(manifest.target.content_hash))
    recreated.set(manifest.target.artifact_id, manifest.target.content_hash);
  for (const row of manifest.steps) {
    if ((row.status === "reproduced" || row.status === "verified") && isContentHash(row.output_hash_live))
      recreated.set(row.target_artifact_id, row.output_hash_live);
  }
  const artifacts: Subject[] = [...recreated].map(([name, hash]) => ({
    name,
    digest: { sha256: hexOf(hash) },
  }));
  const manifestSubject: Subject = { name: MANIFEST_SUBJECT, digest: { sha256: manifestSha256 } };
  const levels: string[] = [];
  if (passed) {
    levels.push(LEVELS.byteIdentical);
    if (manifest.options.from === null) levels.push(LEVELS.wholeChain);
    const containerRows = manifest.steps.filter((r) => r.image !== null);
    if (containerRows.length > 0 && containerRows.every((r) => r.environment === "pinned"))
      levels.push(LEVELS.pinnedEnvironments);
  }
  return {
    _type: STATEMENT_TYPE,
    subject: [...artifacts, manifestSubject],
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: verifierId, version: { "replay-runner": toolVersion } },
      timeVerified: manifest.finished_at,
      resourceUri: resourceUriOf(manifest.target.artifact_id),
      policy: {
        uri: POLICY_URI,
        name: "byte-identical replay of the recorded chain",
        annotations: {
          meaning:
            "each step re-executed in a network-less container pinned to its recorded environment; PASSED only when every step's output is byte-identical to the registry's content_hash and its inputs hash to the recorded input_hash",
          from: manifest.options.from,
          strict: manifest.options.strict,
        },
      },
      verificationResult: passed ? "PASSED" : "FAILED",
      // VSA: the levels verified, or FAILED when the policy was not met.
      verifiedLevels: passed ? levels : ["FAILED"],
      replay: {
        replay_id: manifest.replay_id,
        registry: manifest.registry,
        target: { artifact_id: manifest.target.artifact_id, content_hash: manifest.target.content_hash },
        status: manifest.status,
        started_at: manifest.started_at,
        finished_at: manifest.finished_at,
        artifacts: artifacts.map((a) => a.name),
        manifest: manifestSubject,
        steps: manifest.steps.map((r) => ({
          step_id: r.step_id,
          step_type: r.step_type,
          status: r.status,
          ok: r.ok,
          reason: r.reason,
          target_artifact_id: r.target_artifact_id,
          input_hash: r.input_hash,
          input_hash_replayed: r.input_hash_replayed,
          inputs: r.inputs.map((i) => ({
            name: i.name,
            artifact_id: i.artifact_id,
            content_hash: i.content_hash,
            origin: i.origin,
          })),
          env_hash: r.env_hash,
          environment: r.environment,
          image: r.image,
          output_hash_live: r.output_hash_live,
          output_hash_replayed: r.output_hash_replayed,
        })),
      },
    },
  };
}
