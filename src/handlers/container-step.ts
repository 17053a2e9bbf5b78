/**
 * The container step types (transform, analysis, render, merge) share one procedure: resolve
 * the pinned image, put inputs, params.json and the frozen script in, run, hash /out/output.
 * `replay-runner run` (the record side) uses the same preparation, so what is recorded is
 * what a replay re-executes.
 */
import { createReadStream } from "node:fs";
import type { BlobStore } from "../blobs/index.js";
import type { Environment, EnvironmentState, Step } from "../chain/types.js";
import { CanonicalJsonError, canonicalJson, describeJsonError } from "../hashing/index.js";
import { quotedReference } from "../images/image-reference.js";
import type { ImageResolver, ResolvedImage } from "../images/types.js";
import type {
  ContainerStepResult,
  PayloadSource,
  PreparedStep,
  StepExecutor,
  StepVariation,
} from "../runner/types.js";
import { parseContainerParameters, type ContainerParameters } from "./container-parameters.js";
import type {
  HandlerContext,
  HandlerOutcome,
  PrepareContext,
  PreparedReplay,
  ReplayInput,
  StepHandler,
} from "./handler.js";
import { stepEnvironment } from "./step-environment.js";

/** Outputs larger than this are refused while streaming (a disk filler must not fill the host). */
export const MAX_OUTPUT_BYTES = 64 * 1024 ** 3;

export interface ContainerStepInvocation {
  stepId: string;
  runId: string;
  parameters: ContainerParameters;
  inputs: ReplayInput[];
  /** SOURCE_DATE_EPOCH (started_at in whole seconds); null: not set. */
  sourceDateEpoch: number | null;
  environment: Environment | null;
  outputFile: string;
  signal?: AbortSignal | undefined;
  /** Warnings about the image (a shared registry that could not serve it), for the step's row. */
  warn?: ((message: string) => void) | undefined;
  /** Triage's change to the sandbox (src/diagnose/); absent for a replay or a record. */
  variation?: StepVariation | undefined;
}

export type InvocationResult =
  { kind: "ran"; result: ContainerStepResult; image: ResolvedImage } | { kind: "refused"; reason: string };

export function fileSource(name: string, file: string, size: number): PayloadSource {
  return { name, size, file, open: () => createReadStream(file, { highWaterMark: 1 << 20 }) };
}

type InvocationDeps = { blobs: BlobStore; executor: StepExecutor; images: ImageResolver };

/** A container step whose script is checked, image resolved and container created, inputs to come. */
export interface PreparedInvocation {
  run(inputs: ReplayInput[]): Promise<InvocationResult>;
  /** The step will not run: remove what was prepared. */
  discard(): void;
}

type Readiness =
  { kind: "ready"; step: PreparedStep; image: ResolvedImage } | { kind: "refused"; reason: string };

/**
 * Starts everything of a container step that does not depend on its inputs (script check, image
 * resolution or build, container creation), so that it overlaps the steps upstream.
 */
export function prepareContainerStep(
  deps: InvocationDeps,
  invocation: Omit<ContainerStepInvocation, "inputs">,
): PreparedInvocation {
  const ready = (async (): Promise<Readiness> => {
    const { parameters } = invocation;
    let params: Buffer;
    try {
      params = Buffer.from(canonicalJson(parameters.args), "utf8");
    } catch (error) {
      if (!(error instanceof CanonicalJsonError)) throw error;
      const reason = `step ${invocation.stepId}: ${describeJsonError("parameters.args", error)}`;
      return { kind: "refused", reason };
    }
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
    for (const warning of image.warnings) invocation.warn?.(warning);
    const step = deps.executor.prepareStep({
      stepId: invocation.stepId,
      runId: invocation.runId,
      image: image.imageId,
      command: parameters.command,
      params,
      code: fileSource(parameters.codeName, deps.blobs.pathFor(parameters.codeHash), code.size),
      env: stepEnvironment(invocation.sourceDateEpoch),
      timeoutMs: parameters.timeoutS * 1000,
      memoryBytes: parameters.memoryMb * 1024 * 1024,
      outputFile: invocation.outputFile,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      signal: invocation.signal,
      ...(invocation.variation === undefined ? {} : { variation: invocation.variation }),
    });
    return { kind: "ready", step, image };
  })();
  ready.catch(() => undefined); // run() rethrows it (an image that cannot be built, ...)
  return {
    async run(inputs) {
      const readiness = await ready;
      if (readiness.kind === "refused") return readiness;
      const result = await readiness.step.run(inputs.map((i) => fileSource(i.name, i.file, i.size)));
      return { kind: "ran", result, image: readiness.image };
    },
    discard() {
      ready.then(
        (readiness) => {
          if (readiness.kind === "ready") readiness.step.discard();
        },
        () => undefined,
      );
    },
  };
}

/** Runs one container step exactly as the contract describes; shared by replay and record. */
export function invokeContainerStep(
  deps: InvocationDeps,
  invocation: ContainerStepInvocation,
): Promise<InvocationResult> {
  const { inputs, ...rest } = invocation;
  return prepareContainerStep(deps, rest).run(inputs);
}

function environmentProblem(stepId: string, state: EnvironmentState): string | undefined {
  if (state.kind === "missing") return `environment ${state.envHash} has no row in environments`;
  if (state.kind === "altered") {
    return `environment row ${state.environment.envHash} was altered: its columns hash to ${state.actualHash}`;
  }
  if (state.kind === "invalid") {
    // Named in full: the row is not run, and the reason is all a reader gets.
    return `step ${stepId}: environment ${state.environment.envHash}: base_image ${quotedReference(state.environment.baseImage)} is not an image reference: ${state.problem}`;
  }
  return undefined;
}

/** What a step's started_at means for its SOURCE_DATE_EPOCH, when that is not the plain case. */
function startedAtWarning(step: Step): string | undefined {
  if (step.startedAtText === null) {
    return step.startedAt === null
      ? "started_at is NULL: SOURCE_DATE_EPOCH was never pinned for this step"
      : undefined;
  }
  const recorded = JSON.stringify(step.startedAtText);
  if (step.sourceDateEpoch === null)
    return `started_at is ${recorded}, no point in time: SOURCE_DATE_EPOCH is not set for this step`;
  return `started_at ${recorded} lies beyond what a JavaScript date holds: SOURCE_DATE_EPOCH=${step.sourceDateEpoch} is computed from the recorded text, and the files in /in and /code get mtime 0`;
}

function unprepared(outcome: HandlerOutcome): PreparedReplay {
  return { replay: () => Promise.resolve(outcome), discard: () => undefined };
}

function prepareReplay(context: PrepareContext): PreparedReplay {
  const { step, environment } = context.chainStep;
  const parsed = parseContainerParameters(step.parameters);
  if (!parsed.ok) return unprepared({ kind: "failed", reason: parsed.reason });
  const problem = environmentProblem(step.id, environment);
  if (problem !== undefined) return unprepared({ kind: "failed", reason: problem });
  if (environment.kind === "unpinned") {
    context.warn(
      "environment never pinned (env_hash is NULL): replayed in replay-base:bookworm with no packages",
    );
  }
  const timeWarning = startedAtWarning(step);
  if (timeWarning !== undefined) context.warn(timeWarning);
  const invocation = prepareContainerStep(context, {
    stepId: step.id,
    runId: context.runId,
    parameters: parsed.value,
    sourceDateEpoch: step.sourceDateEpoch,
    environment: environment.kind === "pinned" ? environment.environment : null,
    outputFile: context.outputFile,
    signal: context.signal,
    warn: (m) => {
      context.warn(m);
    },
  });
  return {
    async replay(inputs: ReplayInput[]): Promise<HandlerOutcome> {
      const invoked = await invocation.run(inputs);
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
        imageDigest: image.digest,
        imageSource: image.source,
      };
    },
    discard: () => {
      invocation.discard();
    },
  };
}

export function containerStepHandler(stepType: string): StepHandler {
  return {
    stepType,
    mode: "container",
    prepare: prepareReplay,
    replay: (context: HandlerContext) => prepareReplay(context).replay(context.inputs),
  };
}
