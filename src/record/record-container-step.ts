/**
 * `run`: execute a frozen script in the sandbox through `invokeContainerStep`, the very
 * procedure a replay uses, then record what it produced. What is recorded is therefore
 * replayable by construction: same parameters, same inputs, same environment, same
 * SOURCE_DATE_EPOCH (from the recorded started_at).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { BlobStore } from "../blobs/index.js";
import { epochSecondsOf } from "../chain/index.js";
import type { SqlClient } from "../db/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import {
  invokeContainerStep,
  parseContainerParameters,
  type ContainerParameters,
  type ReplayInput,
} from "../handlers/index.js";
import { inputHashOf } from "../hashing/index.js";
import type { ImageResolver } from "../images/types.js";
import type { StepExecutor } from "../runner/types.js";
import { VERSION } from "../version.js";
import type { InputSpecs } from "./input-specs.js";
import { loadInputs } from "./load-artifacts.js";
import { newArtifactId, newStepId } from "./record-ids.js";
import type { NewEnvironment, NewRecord } from "./record-rows.js";
import { scratchDir } from "./scratch-dir.js";
import { asEnvironment, environmentRow, type EnvChoice } from "./step-environment-row.js";
import { stepFailedError } from "./step-failure.js";
import { assertArtifactIdFree, writeRecord } from "./write-record.js";

/** The artifact type a step type usually produces, when --type is not given. */
const DEFAULT_ARTIFACT_TYPE: Readonly<Record<string, string>> = {
  transform: "table",
  analysis: "analysis_result",
  render: "figure",
  merge: "table",
};

export const CONTAINER_STEP_TYPES = ["transform", "analysis", "render", "merge"] as const;

export interface ContainerStepRequest {
  stepType: string;
  inputs: InputSpecs;
  codeFile: string;
  codeName: string;
  /** undefined: no `args` (params.json is `null`). */
  args: unknown;
  env: EnvChoice;
  baseImage: string;
  timeoutS: number;
  memoryMb: number;
  artifactType?: string | undefined;
  title?: string | undefined;
  mediaType?: string | undefined;
  method?: string | undefined;
  id?: string | undefined;
}

export interface ContainerStepDeps {
  db: SqlClient;
  blobs: BlobStore;
  executor: StepExecutor;
  images: ImageResolver;
  runId: string;
  signal?: AbortSignal | undefined;
  log?: (line: string) => void;
}

/** A step checked and ready to run: everything a user can get wrong has been refused by now. */
export interface PreparedContainerStep {
  request: ContainerStepRequest;
  inputs: ReplayInput[];
  environment: NewEnvironment | null;
  parameters: Record<string, unknown>;
  parsed: ContainerParameters;
  inputHash: string | null;
}

async function storeCode(blobs: BlobStore, file: string): Promise<string> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error("not a regular file");
  } catch (error) {
    throw new ReplayError("USAGE", `Cannot read the script ${file}: ${messageOf(error)}.`, {
      hint: "Give --code the path of the script the step runs.",
    });
  }
  return (await blobs.putStream(createReadStream(file))).contentHash;
}

/**
 * Checks the inputs (present, intact), the lockfile and the parameters, and stores the script,
 * before any container (or the Docker engine) is touched.
 */
export async function prepareContainerStep(
  deps: { db: SqlClient; blobs: BlobStore },
  request: ContainerStepRequest,
): Promise<PreparedContainerStep> {
  await assertArtifactIdFree(deps.db, request.id);
  const inputs = await loadInputs(deps.db, deps.blobs, request.inputs.inputs);
  const environment = await environmentRow(request.env, request.baseImage);
  const codeHash = await storeCode(deps.blobs, path.resolve(request.codeFile));
  const parameters: Record<string, unknown> = {
    code_hash: codeHash,
    code_name: request.codeName,
    timeout_s: request.timeoutS,
    memory_mb: request.memoryMb,
  };
  if (request.args !== undefined) parameters.args = request.args;
  // The replay's own validation: a recorded step must be one the replay accepts.
  const parsed = parseContainerParameters(parameters);
  if (!parsed.ok)
    throw new ReplayError("USAGE", `The step's ${parsed.reason}.`, {
      hint: "See `replay-runner run --help`.",
    });
  const inputHash = inputHashOf(
    inputs.map((i) => ({ name: i.name, contentHash: i.contentHash })),
    request.inputs.multiInput,
  );
  return { request, inputs, environment, parameters, parsed: parsed.value, inputHash };
}

/** Runs a prepared step exactly as a replay would and records it; a failure records nothing. */
export async function recordContainerStep(
  deps: ContainerStepDeps,
  prepared: PreparedContainerStep,
): Promise<NewRecord> {
  const log = deps.log ?? (() => undefined);
  const { request, inputs, environment, parameters, inputHash } = prepared;
  const stepId = newStepId();
  // Real time, milliseconds kept: the replay derives SOURCE_DATE_EPOCH from this recorded value.
  const startedAt = new Date();
  await using scratch = await scratchDir("rr-run");
  const outputFile = path.join(scratch.path, "output");
  log(`running ${request.stepType} ${request.codeName} as step ${stepId}`);
  const invoked = await invokeContainerStep(deps, {
    stepId,
    runId: deps.runId,
    parameters: prepared.parsed,
    inputs,
    sourceDateEpoch: epochSecondsOf(startedAt),
    environment: environment === null ? null : asEnvironment(environment),
    outputFile,
    signal: deps.signal,
  });
  if (invoked.kind === "refused") {
    throw new ReplayError("INTEGRITY", `The step could not start: ${invoked.reason}.`, {
      hint: "Run the command again.",
    });
  }
  const { result } = invoked;
  if (result.status === "failed") throw stepFailedError(request.stepType, request.codeName, result);
  const completedAt = new Date();
  const stored = await deps.blobs.putFile(outputFile, { contentHash: result.contentHash, size: result.size });

  const record: NewRecord = {
    artifact: {
      id: request.id ?? newArtifactId(),
      artifactType: request.artifactType ?? DEFAULT_ARTIFACT_TYPE[request.stepType] ?? "table",
      title: request.title ?? null,
      contentHash: stored.contentHash,
      sizeBytes: stored.size,
      mediaType: request.mediaType ?? null,
      metadata: { recorded_by: `replay-runner ${VERSION}`, image_id: result.imageId },
    },
    environment,
    step: {
      id: stepId,
      sourceArtifactId: inputs[0]?.artifactId ?? null,
      stepType: request.stepType,
      method: request.method ?? `${request.stepType}: ${prepared.parsed.command.join(" ")}`,
      parameters,
      inputHash,
      envHash: environment?.envHash ?? null,
      startedAt,
      completedAt,
      inputRows: request.inputs.multiInput ? request.inputs.inputs : [],
    },
  };
  await writeRecord(deps.db, record);
  return record;
}
