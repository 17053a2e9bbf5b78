/**
 * One step's container, in two halves so that the first can run ahead (pipelining):
 * - prepareContainer: create it (hardened, container-spec.ts) with its transport's mounts,
 *   attach stderr and put the script in: nothing here depends on the step's inputs;
 * - runContainer: put the inputs in, start, wait, read /out/output. No polling: the engine's
 *   wait answers when the step ends; an inspect happens only after a non-zero exit (to tell the
 *   OOM killer from a failing script).
 * The caller removes the container (and the transport's folder) after either half.
 */
import type { Readable } from "node:stream";
import { isReplayError, messageOf } from "../errors/index.js";
import { VariationRefused, containerSpec } from "./container-spec.js";
import { EngineRequestError, type DockerEngine } from "./engine-port.js";
import { resourceLabels } from "./labels.js";
import { OutputRuleError, type ExtractedOutput } from "./output-file.js";
import { collectTail } from "./stderr-tail.js";
import { StepFailure, engineFailure, lastLineOf } from "./step-failure.js";
import type { StepTransport } from "./step-transport.js";
import type { PayloadSource, PreparedStepRequest } from "./types.js";

/** How long to wait, after exit, for the last bytes of stderr to arrive. */
const STDERR_DRAIN_MS = 2_000;
/** Exit status of a process killed by SIGXFSZ (a file grew past the `fsize` limit). */
const EXIT_SIGXFSZ = 128 + 25;

/** The engine could not mount the staged folder (it runs elsewhere): use archives instead. */
export class HostMountsRefused extends Error {}

/** How engines word a bind mount whose source they cannot see (dockerd, Docker Desktop). */
const BIND_REFUSED = /bind source path does not exist|mounts denied|invalid mount config for type "bind"/i;

export interface CreatedContainer {
  id: string;
  transport: StepTransport;
  /** The hijacked attach connection: destroyed when the step ends, or it keeps the process alive. */
  attached: Readable | undefined;
  stderr: ReturnType<typeof collectTail> | undefined;
}

/** Read through a function: the flag changes under our feet, narrowing must not assume it. */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * Creates the container. `created` receives it as soon as it exists, so that the caller removes
 * it whatever happens next; a refused bind mount throws HostMountsRefused before anything exists.
 */
export async function prepareContainer(
  engine: DockerEngine,
  transport: StepTransport,
  request: PreparedStepRequest & { cpus: number | undefined },
  created: (container: CreatedContainer) => void,
): Promise<void> {
  let body;
  try {
    body = containerSpec({
      image: request.image,
      command: request.command,
      env: request.env,
      memoryBytes: request.memoryBytes,
      maxOutputBytes: request.maxOutputBytes,
      labels: resourceLabels({ runId: request.runId, stepId: request.stepId }),
      cpus: request.cpus,
      binds: transport.binds,
      variation: request.variation,
    });
  } catch (error) {
    if (error instanceof VariationRefused)
      throw new StepFailure("start", `the variation cannot be applied: ${error.message}`);
    throw error;
  }
  let id: string;
  try {
    id = await engine.createContainer(body);
  } catch (error) {
    if (transport.binds.length > 0 && error instanceof EngineRequestError && BIND_REFUSED.test(error.message))
      throw new HostMountsRefused(error.message);
    throw engineFailure(error, "start", "the container could not be created");
  }
  const container: CreatedContainer = { id, transport, attached: undefined, stderr: undefined };
  created(container);
  try {
    // Independent requests, overlapped: attach before start so no stderr is lost.
    const [attached] = await Promise.all([engine.attachStderr(id), transport.prepare(engine, id)]);
    container.attached = attached;
    container.stderr = collectTail(attached);
  } catch (error) {
    throw engineFailure(error, "start", "the container could not be prepared");
  }
}

/** Runs a prepared container to its end; throws StepFailure (or OutputRuleError) on any failure. */
export async function runContainer(
  engine: DockerEngine,
  container: CreatedContainer,
  request: PreparedStepRequest,
  inputs: PayloadSource[],
  setTail: (tail: string) => void,
): Promise<ExtractedOutput> {
  const { id, transport } = container;
  const signal = request.signal;
  let killed: "timeout" | "interrupted" | undefined;
  const kill = (why: "timeout" | "interrupted"): void => {
    killed ??= why;
    engine.killContainer(id).catch(() => undefined);
  };
  const onAbort = (): void => {
    kill("interrupted");
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const stderr = container.stderr;
    if (stderr === undefined) throw new StepFailure("start", "the container was not prepared");
    try {
      if (isAborted(signal)) throw new StepFailure("interrupted", "interrupted before the step started");
      await transport.fill(engine, id, inputs);
      if (isAborted(signal)) throw new StepFailure("interrupted", "interrupted before the step started");
      await engine.startContainer(id);
    } catch (error) {
      if (error instanceof StepFailure) throw error;
      if (error instanceof EngineRequestError || isReplayError(error))
        throw engineFailure(error, "start", "the container could not be started");
      throw new StepFailure("start", `putting the inputs in failed: ${messageOf(error)}`);
    }
    // An abort that arrived while the container was created but not running killed nothing.
    if (killed !== undefined) kill(killed);

    timer = setTimeout(() => {
      kill("timeout");
    }, request.timeoutMs);
    let exitCode: number;
    try {
      exitCode = await engine.waitContainer(id);
    } catch (error) {
      throw engineFailure(error, "engine", "waiting for the step failed");
    }
    clearTimeout(timer);
    await Promise.race([stderr.done, new Promise((resolve) => setTimeout(resolve, STDERR_DRAIN_MS).unref())]);
    const tail = stderr.tail.text();
    setTail(tail);

    if (killed === "interrupted")
      throw new StepFailure("interrupted", "the replay was interrupted; the step was killed");
    if (killed === "timeout") {
      throw new StepFailure(
        "timeout",
        // toPrecision: 1.1 s is 1100.0000000000002 ms, and should read as 1.1 again.
        `the step ran longer than its limit of ${Number((request.timeoutMs / 1000).toPrecision(12))} s and was killed`,
      );
    }
    if (exitCode !== 0) {
      let oom = false;
      try {
        oom = await engine.wasOomKilled(id);
      } catch (error) {
        throw engineFailure(error, "engine", "inspecting the stopped step failed");
      }
      if (oom) {
        throw new StepFailure(
          "oom",
          `the step ran out of memory (limit ${Math.round(request.memoryBytes / 2 ** 20)} MiB, no swap) and was killed`,
          exitCode,
        );
      }
      const why =
        exitCode === EXIT_SIGXFSZ
          ? ` (SIGXFSZ: a file grew past the output size limit of ${request.maxOutputBytes} bytes)`
          : "";
      throw new StepFailure(
        "exit",
        `the step exited with status ${exitCode}${why}${lastLineOf(tail)}`,
        exitCode,
      );
    }

    try {
      return await transport.takeOutput(engine, id, {
        outputFile: request.outputFile,
        maxOutputBytes: request.maxOutputBytes,
        signal,
      });
    } catch (error) {
      if (error instanceof OutputRuleError || isAborted(signal)) throw error;
      if (error instanceof EngineRequestError || isReplayError(error))
        throw engineFailure(error, "engine", "reading /out/output failed");
      throw new StepFailure("output", `reading /out/output failed: ${messageOf(error)}`);
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
