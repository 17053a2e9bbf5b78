/**
 * How a container step fails, in words for the manifest: one StepFailure per kind, and the
 * translation of engine errors into them (once, here).
 */
import { isReplayError, messageOf } from "../errors/index.js";
import { visibleText } from "../terminal/index.js";
import { EngineRequestError } from "./engine-port.js";
import { OutputRuleError } from "./output-file.js";
import type { ContainerStepResult, StepFailureKind } from "./types.js";

export class StepFailure extends Error {
  constructor(
    readonly failure: StepFailureKind,
    readonly reason: string,
    readonly exitCode?: number,
  ) {
    super(reason);
  }
}

/** The words every engine failure during a step starts with; the engine's own text follows. */
export const ENGINE_FAILED_DURING_STEP = "the Docker engine failed during the step";

/** What a failing engine call means for the step: the engine went away, or it refused. */
export function engineFailure(error: unknown, during: StepFailureKind, what: string): StepFailure {
  if (error instanceof StepFailure) return error;
  // A stopping or restarting engine answers with whatever state it is in (a closed database, an
  // overlay mount it cannot make, a refused socket): say what happened in our words, once here,
  // and keep the engine's text as the detail.
  const prefix = during === "engine" ? `${ENGINE_FAILED_DURING_STEP}: ` : "";
  if (isReplayError(error) && error.code === "DOCKER_UNAVAILABLE") {
    return new StepFailure("engine", `${ENGINE_FAILED_DURING_STEP}: ${error.message}`);
  }
  if (error instanceof EngineRequestError)
    return new StepFailure(during, `${prefix}${what}: ${error.message}`);
  return new StepFailure(during, `${prefix}${what}: ${messageOf(error)}`);
}

/** Any error out of a step's run, as the failed result the manifest shows. */
export function failedResult(
  error: unknown,
  details: { aborted: boolean; stderrTail: string | undefined; durationMs: number; imageId: string },
): ContainerStepResult {
  const failure =
    details.aborted && !(error instanceof StepFailure && error.failure === "engine")
      ? new StepFailure("interrupted", "the replay was interrupted; the step's container was removed")
      : error instanceof StepFailure
        ? error
        : error instanceof OutputRuleError
          ? new StepFailure("output", error.reason)
          : engineFailure(error, "engine", "unexpected error");
  return {
    status: "failed",
    failure: failure.failure,
    reason: failure.reason,
    exitCode: failure.exitCode,
    stderrTail: details.stderrTail,
    durationMs: details.durationMs,
    imageId: details.imageId,
  };
}

/**
 * The last line the step wrote to stderr, for the reason: "exited with status 1" alone does not
 * say that Python's write failed with EFBIG at the fsize limit, or that mknod was refused.
 * The line is the step's own text (hostile): one line, control characters made visible, bounded.
 */
export function lastLineOf(tail: string): string {
  const line = tail
    .split("\n")
    .map((l) => visibleText(l.replace(/\r$/, "")).trim())
    .filter((l) => l !== "")
    .at(-1);
  if (line === undefined) return "";
  return `: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`;
}
