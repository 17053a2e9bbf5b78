/** Why a step being recorded did not produce an output, as a ReplayError a user can act on. */
import { ReplayError, type ReplayErrorCode } from "../errors/index.js";
import type { ContainerStepResult } from "../runner/types.js";

/** Lines of the step's stderr shown in the message: enough for a Python traceback's end. */
const TAIL_LINES = 20;

export function stderrExcerpt(tail: string | undefined): string {
  if (tail === undefined || tail.trim() === "") return "";
  const lines = tail.replace(/\s+$/, "").split("\n").slice(-TAIL_LINES);
  return `\n--- stderr (last ${lines.length} lines) ---\n${lines.join("\n")}\n---`;
}

export function stepFailedError(
  stepType: string,
  codeName: string,
  result: Extract<ContainerStepResult, { status: "failed" }>,
): ReplayError {
  // An engine that failed is infrastructure (exit 3); the step's own failure is exit 1.
  const code: ReplayErrorCode =
    result.failure === "start" || result.failure === "engine"
      ? "DOCKER_UNAVAILABLE"
      : result.failure === "interrupted"
        ? "INTERRUPTED"
        : "STEP_FAILED";
  const hints: Record<typeof result.failure, string> = {
    exit: `Fix ${codeName} (its stderr is above) and run again; nothing was recorded.`,
    timeout: "Raise --timeout (seconds) or make the step faster; nothing was recorded.",
    oom: "Raise --memory (MiB) or make the step use less memory; nothing was recorded.",
    output: "The step must write exactly one regular file, /out/output; nothing was recorded.",
    start: "Check that Docker is running (`docker info`) and the image exists; nothing was recorded.",
    engine: "Check that Docker is running (`docker info`); nothing was recorded.",
    interrupted: "Nothing was recorded.",
  };
  return new ReplayError(
    code,
    `The ${stepType} step failed: ${result.reason}.${stderrExcerpt(result.stderrTail)}`,
    {
      hint: hints[result.failure],
      details: {
        failure: result.failure,
        exitCode: result.exitCode ?? null,
        stderrTail: result.stderrTail ?? null,
      },
    },
  );
}
