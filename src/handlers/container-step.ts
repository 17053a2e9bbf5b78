/**
 * The container step types (transform, analysis, render, merge) share one procedure: resolve
 * the pinned image, put inputs, params.json and the frozen script in, run, hash /out/output.
 * `replay-runner run` (the record side) uses the same preparation, so what is recorded is
 * what a replay re-executes.
 */
import { createReadStream } from "node:fs";
import type { BlobStore } from "../blobs/index.js";
import type { Environment, EnvironmentState } from "../chain/types.js";
import { canonicalJson } from "../hashing/index.js";
import type { ImageResolver, ResolvedImage } from "../images/types.js";
import type {
  ContainerStepRequest,
  ContainerStepResult,
  PayloadSource,
  StepExecutor,
} from "../runner/types.js";
import { parseContainerParameters, type ContainerParameters } from "./container-parameters.js";
import type { HandlerContext, HandlerOutcome, ReplayInput, StepHandler } from "./handler.js";
import { stepEnvironment } from "./step-environment.js";

/** Outputs larger than this are refused while streaming (a disk filler must not fill the host). */
export const MAX_OUTPUT_BYTES = 64 * 1024 ** 3;

export interface ContainerStepInvocation {
  stepId: string;
  runId: string;
  parameters: ContainerParameters;
  inputs: ReplayInput[];
  startedAt: Date | null;
  environment: Environment | null;
  outputFile: string;
  signal?: AbortSignal | undefined;
}

export type InvocationResult =
  { kind: "ran"; result: ContainerStepResult; image: ResolvedImage } | { kind: "refused"; reason: string };

export function fileSource(name: string, file: string, size: number): PayloadSource {
  return { name, size, file, open: () => createReadStream(file, { highWaterMark: 1 << 20 }) };
}

/** Runs one container step exactly as the contract describes; shared by replay and record. */
export async function invokeContainerStep(
  deps: { blobs: BlobStore; executor: StepExecutor; images: ImageResolver },
  invocation: ContainerStepInvocation,
): Promise<InvocationResult> {
  const { parameters } = invocation;
  const code = await deps.blobs.check(parameters.codeHash);
  if (code.state === "missing")
    return { kind: "refused", reason: `code blob ${parameters.codeHash} is missing: ${code.path}` };
  if (code.state === "corrupted") {
    return {
      kind: "refused",
      reason: `code blob ${parameters.codeHash} is corrupted: its bytes hash to ${code.actualHash}`,
    };
  }
  const image = await deps.images.resolve(invocation.environment, invocation.signal);
  const request: ContainerStepRequest = {
    stepId: invocation.stepId,
    runId: invocation.runId,
    image: image.imageId,
    command: parameters.command,
    inputs: invocation.inputs.map((i) => fileSource(i.name, i.file, i.size)),
    params: Buffer.from(canonicalJson(parameters.args), "utf8"),
    code: fileSource(parameters.codeName, deps.blobs.pathFor(parameters.codeHash), code.size),
    env: stepEnvironment(invocation.startedAt),
    timeoutMs: Math.round(parameters.timeoutS * 1000),
    memoryBytes: parameters.memoryMb * 1024 * 1024,
    outputFile: invocation.outputFile,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    signal: invocation.signal,
  };
  const result = await deps.executor.runStep(request);
  return { kind: "ran", result, image };
}

function environmentProblem(state: EnvironmentState): string | undefined {
  if (state.kind === "missing") return `environment ${state.envHash} has no row in environments`;
  if (state.kind === "altered") {
    return `environment row ${state.environment.envHash} was altered: its columns hash to ${state.actualHash}`;
  }
  return undefined;
}

export function containerStepHandler(stepType: string): StepHandler {
  return {
    stepType,
    mode: "container",
    async replay(context: HandlerContext): Promise<HandlerOutcome> {
      const { step, environment } = context.chainStep;
      const parsed = parseContainerParameters(step.parameters);
      if (!parsed.ok) return { kind: "failed", reason: parsed.reason };
      const problem = environmentProblem(environment);
      if (problem !== undefined) return { kind: "failed", reason: problem };
      if (environment.kind === "unpinned") {
        context.warn(
          "environment never pinned (env_hash is NULL): replayed in replay-base:bookworm with no packages",
        );
      }
      if (step.startedAt === null)
        context.warn("started_at is NULL: SOURCE_DATE_EPOCH was never pinned for this step");
      const invoked = await invokeContainerStep(context, {
        stepId: step.id,
        runId: context.runId,
        parameters: parsed.value,
        inputs: context.inputs,
        startedAt: step.startedAt,
        environment: environment.kind === "pinned" ? environment.environment : null,
        outputFile: context.outputFile,
        signal: context.signal,
      });
      if (invoked.kind === "refused") return { kind: "failed", reason: invoked.reason };
      const { result, image } = invoked;
      if (result.status === "failed") return { kind: "failed", reason: result.reason };
      return {
        kind: "replayed",
        contentHash: result.contentHash,
        size: result.size,
        file: context.outputFile,
        imageRef: image.ref,
        imageId: result.imageId,
      };
    },
  };
}
