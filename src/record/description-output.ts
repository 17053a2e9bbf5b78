/** How `show` prints an artifact description: aligned text for people, JSON for scripts. */
import {
  artifactToJson,
  environmentToJson,
  type ArtifactJson,
  type EnvironmentJson,
  type EnvironmentState,
} from "../chain/index.js";
import { visibleText as v } from "../terminal/index.js";
import type { ArtifactDescription } from "./describe-artifact.js";

export interface PayloadJson {
  path: string;
  /** intact | missing | corrupted (its bytes no longer hash to content_hash) */
  state: "intact" | "missing" | "corrupted";
  /** Bytes on disk; null when missing. */
  size_bytes: number | null;
  /** corrupted only: what the bytes hash to now. */
  actual_hash: string | null;
}

export interface ProducerJson {
  id: string;
  step_type: string;
  method: string;
  source_artifact_id: string | null;
  inputs: { name: string; artifact_id: string }[];
  parameters: unknown;
  input_hash: string | null;
  env_hash: string | null;
  environment: EnvironmentJson;
  started_at: string | null;
  completed_at: string | null;
}

export interface DescriptionJson {
  artifact: ArtifactJson;
  payload: PayloadJson;
  /** Normally one step; empty when no step produced the artifact; several is bad data. */
  produced_by: ProducerJson[];
}

export function descriptionToJson(d: ArtifactDescription): DescriptionJson {
  const { check } = d.blob;
  return {
    artifact: artifactToJson(d.artifact),
    payload: {
      path: d.blob.path,
      state: check.state,
      size_bytes: check.state === "missing" ? null : check.size,
      actual_hash: check.state === "corrupted" ? check.actualHash : null,
    },
    produced_by: d.producers.map(({ step, environment }) => ({
      id: step.id,
      step_type: step.stepType,
      method: step.method,
      source_artifact_id: step.sourceArtifactId,
      inputs:
        step.inputRows.length > 0
          ? step.inputRows.map((r) => ({ name: r.name, artifact_id: r.artifactId }))
          : step.sourceArtifactId === null
            ? []
            : [{ name: "source", artifact_id: step.sourceArtifactId }],
      parameters: step.parameters,
      input_hash: step.inputHash,
      env_hash: step.envHash,
      environment: environmentToJson(environment),
      started_at: step.startedAt?.toISOString() ?? step.startedAtText,
      completed_at: step.completedAt?.toISOString() ?? null,
    })),
  };
}

/** The environment's lines (the registry's text, made visible by rows()). */
function environmentText(env: EnvironmentState): string[] {
  switch (env.kind) {
    case "unpinned":
      return ["unpinned (env_hash NULL: ran outside the sandbox)"];
    case "missing":
      return [`MISSING (no environments row ${env.envHash})`];
    case "altered":
      return [`ALTERED (${env.environment.envHash}: its columns hash to ${env.actualHash})`];
    case "invalid":
      return [`INVALID (${env.environment.envHash}: base_image is no image reference: ${env.problem})`];
    case "pinned": {
      const e = env.environment;
      const packages = e.requirementsLock
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.trim().startsWith("#")).length;
      const what = e.lockfileKind === "pip" ? `pip, ${packages} locked requirement(s)` : e.lockfileKind;
      return [`pinned ${e.envHash}`, `${e.baseImage} + ${what}`];
    }
  }
}

/** Aligned `key value` rows; every value is the registry's text, made visible, one line each. */
function rows(pairs: [string, string | string[]][]): string {
  return pairs
    .map(([key, value]) => {
      const lines = (typeof value === "string" ? [value] : value).map(v);
      return `  ${key.padEnd(13)} ${lines.join(`\n${" ".repeat(16)}`)}\n`;
    })
    .join("");
}

export function descriptionToText(d: ArtifactDescription): string {
  const j = descriptionToJson(d);
  const a = j.artifact;
  const p = j.payload;
  const payloadState =
    p.state === "intact"
      ? "intact"
      : p.state === "missing"
        ? "MISSING from the blob store"
        : `CORRUPTED: its bytes hash to ${p.actual_hash ?? "?"}`;
  let out = `artifact ${v(a.id)} (${v(a.artifact_type)})\n`;
  out += rows([
    ["title", a.title ?? "-"],
    ["content_hash", a.content_hash],
    ["size", a.size_bytes === null ? "-" : `${a.size_bytes} bytes`],
    ["media_type", a.media_type ?? "-"],
    ["created_at", a.created_at],
    ["payload", `${p.path} (${payloadState})`],
  ]);
  if (j.produced_by.length === 0) out += "produced by no recorded step (a replay takes it as it is)\n";
  if (j.produced_by.length > 1)
    out += `produced by ${j.produced_by.length} steps (bad data: at most one may produce it)\n`;
  for (const [i, s] of j.produced_by.entries()) {
    const producer = d.producers[i];
    out += `produced by step ${v(s.id)}\n`;
    out += rows([
      ["step_type", s.step_type],
      ["method", s.method],
      [
        "inputs",
        s.inputs.length === 0 ? "none" : s.inputs.map((x) => `${x.name} = ${x.artifact_id}`).join(", "),
      ],
      ["input_hash", s.input_hash ?? "NULL"],
      ["parameters", JSON.stringify(s.parameters)],
      ["environment", producer === undefined ? "-" : environmentText(producer.environment)],
      ["started_at", s.started_at ?? "NULL"],
      ["completed_at", s.completed_at ?? "NULL"],
    ]);
  }
  return out;
}
