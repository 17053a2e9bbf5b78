/**
 * Runs one container step in the engine: create (hardened, see container-spec.ts), attach
 * stderr and put /in and /code at once, start, wait, read /out/output, remove. No polling:
 * the engine's wait answers when the step ends; an inspect happens only after a non-zero exit
 * (to tell the OOM killer from a failing script).
 */
import { performance } from "node:perf_hooks";
import { isReplayError, messageOf } from "../errors/index.js";
import { containerSpec } from "./container-spec.js";
import { EngineRequestError, type DockerEngine } from "./engine-port.js";
import { archiveTransport } from "./archive-transport.js";
import { hostTransport } from "./host-transport.js";
import { bytesSource, isPlainFileName } from "./input-archive.js";
import { resourceLabels } from "./labels.js";
import { OutputRuleError } from "./output-archive.js";
import type { StagingRoot } from "./staging-root.js";
import { collectTail } from "./stderr-tail.js";
import type { StepTransport } from "./step-transport.js";
import type { Readable } from "node:stream";
import type {
  ContainerStepRequest,
  ContainerStepResult,
  PayloadSource,
  StepExecutor,
  StepFailureKind,
} from "./types.js";

export interface DockerStepExecutorOptions {
  engine: DockerEngine;
  /** CPUs per step; default all of the host's (container-spec.ts). */
  cpus?: number | undefined;
  /** An operator's cap on any file a step writes (REPLAY_MAX_OUTPUT_BYTES); lowers the request's limit. */
  maxOutputBytes?: number | undefined;
  /**
   * Where to stage host mounts (step-transport.ts); only for an engine on this host. Undefined:
   * archives. An engine that refuses a bind mount (its files are elsewhere) turns them off.
   */
  staging?: StagingRoot | undefined;
  /** Bind-mount /out too; default: when this process is root (host-transport.ts says why). */
  bindOut?: boolean | undefined;
}

/** The engine could not mount the staged folder (it runs elsewhere): use archives instead. */
class HostMountsRefused extends Error {}

/** How engines word a bind mount whose source they cannot see (dockerd, Docker Desktop). */
const BIND_REFUSED = /bind source path does not exist|mounts denied|invalid mount config for type "bind"/i;

/** How long to wait, after exit, for the last bytes of stderr to arrive. */
const STDERR_DRAIN_MS = 2_000;
/** Exit status of a process killed by SIGXFSZ (a file grew past the `fsize` limit). */
const EXIT_SIGXFSZ = 128 + 25;

class StepFailure extends Error {
  constructor(
    readonly failure: StepFailureKind,
    readonly reason: string,
    readonly exitCode?: number,
  ) {
    super(reason);
  }
}

/** What a failing engine call means for the step: the engine went away, or it refused. */
/** The words every engine failure during a step starts with; the engine's own text follows. */
export const ENGINE_FAILED_DURING_STEP = "the Docker engine failed during the step";

function engineFailure(error: unknown, during: StepFailureKind, what: string): StepFailure {
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

/** The contract's rules for names under /in and /code. */
export function checkRequestNames(request: ContainerStepRequest): string | undefined {
  const seen = new Set<string>();
  for (const input of request.inputs) {
    if (!isPlainFileName(input.name) || input.name === "params.json") {
      return `input name ${JSON.stringify(input.name)} is not a plain file name (or is params.json)`;
    }
    if (seen.has(input.name)) return `input name ${JSON.stringify(input.name)} appears twice`;
    seen.add(input.name);
  }
  if (!isPlainFileName(request.code.name))
    return `code name ${JSON.stringify(request.code.name)} is not a plain file name`;
  return undefined;
}

/** Read through a function: the flag changes under our feet, narrowing must not assume it. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * The last line the step wrote to stderr, for the reason: "exited with status 1" alone does not
 * say that Python's write failed with EFBIG at the fsize limit, or that mknod was refused.
 * The line is the step's own text (hostile): one line, control characters dropped, bounded.
 */
export function lastLineOf(tail: string): string {
  const line = tail
    .split("\n")
    .map((l) =>
      Array.from(l, (c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? "" : c))
        .join("")
        .trim(),
    )
    .filter((l) => l !== "")
    .at(-1);
  if (line === undefined) return "";
  return `: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`;
}

function sourceDateEpoch(env: Record<string, string>): number {
  const value = Number(env.SOURCE_DATE_EPOCH);
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

export class DockerStepExecutor implements StepExecutor, AsyncDisposable {
  private readonly engine: DockerEngine;
  private readonly cpus: number | undefined;
  private readonly maxOutputBytes: number | undefined;
  private staging: StagingRoot | undefined;
  private readonly bindOut: boolean;
  private readonly cleanups = new Set<Promise<void>>();

  constructor(options: DockerStepExecutorOptions) {
    this.engine = options.engine;
    this.cpus = options.cpus;
    this.maxOutputBytes = options.maxOutputBytes;
    this.staging = options.staging;
    this.bindOut = options.bindOut ?? process.getuid?.() === 0;
  }

  /** Archives or host mounts, whichever this executor uses now. */
  get transport(): "archives" | "host-mounts" {
    return this.staging === undefined ? "archives" : "host-mounts";
  }

  async runStep(original: ContainerStepRequest): Promise<ContainerStepResult> {
    const request =
      this.maxOutputBytes === undefined || this.maxOutputBytes >= original.maxOutputBytes
        ? original
        : { ...original, maxOutputBytes: this.maxOutputBytes };
    const started = performance.now();
    const durationMs = (): number => Math.round(performance.now() - started);
    let stderrTail: string | undefined;
    try {
      let outcome;
      try {
        outcome = await this.execute(request, (tail) => (stderrTail = tail));
      } catch (error) {
        if (!(error instanceof HostMountsRefused)) throw error;
        this.staging = undefined;
        outcome = await this.execute(request, (tail) => (stderrTail = tail));
      }
      return {
        status: "succeeded",
        ...outcome,
        durationMs: durationMs(),
        imageId: request.image,
        stderrTail: stderrTail ?? "",
      };
    } catch (error) {
      const failure =
        request.signal?.aborted === true && !(error instanceof StepFailure && error.failure === "engine")
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
        stderrTail,
        durationMs: durationMs(),
        imageId: request.image,
      };
    }
  }

  private async transportFor(
    inputs: PayloadSource[],
    code: PayloadSource,
    mtime: number,
    signal: AbortSignal | undefined,
  ): Promise<StepTransport> {
    if (this.staging === undefined) return archiveTransport(inputs, code, mtime);
    try {
      return await hostTransport(this.staging, inputs, code, mtime, { bindOut: this.bindOut, signal });
    } catch (error) {
      throw new StepFailure("start", `staging the step's files on the host failed: ${messageOf(error)}`);
    }
  }

  private async execute(
    request: ContainerStepRequest,
    setTail: (tail: string) => void,
  ): Promise<{ contentHash: string; size: number }> {
    const badName = checkRequestNames(request);
    if (badName !== undefined) throw new StepFailure("start", badName);
    const signal = request.signal;
    if (isAborted(signal)) throw new StepFailure("interrupted", "interrupted before the step started");

    const mtime = sourceDateEpoch(request.env);
    const inputs = [...request.inputs, bytesSource("params.json", request.params)];
    const transport = await this.transportFor(inputs, request.code, mtime, signal);
    let containerId: string | undefined;
    try {
      return await this.executeWith(transport, request, setTail, (id) => (containerId = id));
    } finally {
      this.release(containerId, transport);
    }
  }

  /**
   * Removes the step's container, then the folder it mounted, while the next step already
   * runs: the result is known, only the clean-up is left (a few ms to tens of ms per step).
   * `settled()` (and disposal) waits for it.
   */
  private release(containerId: string | undefined, transport: StepTransport): void {
    const cleanup = (async () => {
      // If the engine is gone this fails too; the reaper removes what is left on the next run.
      if (containerId !== undefined) await this.engine.removeContainer(containerId).catch(() => undefined);
      await Promise.resolve(transport[Symbol.asyncDispose]()).catch(() => undefined);
    })();
    this.cleanups.add(cleanup);
    void cleanup.finally(() => this.cleanups.delete(cleanup));
  }

  /** Resolves once every finished step's container and folder are removed. */
  async settled(): Promise<void> {
    while (this.cleanups.size > 0) await Promise.all(this.cleanups);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.settled();
  }

  private async executeWith(
    transport: StepTransport,
    request: ContainerStepRequest,
    setTail: (tail: string) => void,
    created: (id: string) => void,
  ): Promise<{ contentHash: string; size: number }> {
    const signal = request.signal;
    const labels = resourceLabels({ runId: request.runId, stepId: request.stepId });
    const body = containerSpec({
      image: request.image,
      command: request.command,
      env: request.env,
      memoryBytes: request.memoryBytes,
      maxOutputBytes: request.maxOutputBytes,
      labels,
      cpus: this.cpus,
      binds: transport.binds,
    });
    let id: string;
    try {
      id = await this.engine.createContainer(body);
    } catch (error) {
      if (
        transport.binds.length > 0 &&
        error instanceof EngineRequestError &&
        BIND_REFUSED.test(error.message)
      )
        throw new HostMountsRefused(error.message);
      throw engineFailure(error, "start", "the container could not be created");
    }
    created(id);

    // From here on the container exists: every path out removes it (and its volumes).
    let killed: "timeout" | "interrupted" | undefined;
    const kill = (why: "timeout" | "interrupted"): void => {
      killed ??= why;
      this.engine.killContainer(id).catch(() => undefined);
    };
    const onAbort = (): void => {
      kill("interrupted");
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let attachedStream: Readable | undefined;
    try {
      if (isAborted(signal)) throw new StepFailure("interrupted", "interrupted before the step started");
      let stderr: ReturnType<typeof collectTail>;
      try {
        // Independent requests, overlapped: attach before start so no stderr is lost.
        const [attached] = await Promise.all([this.engine.attachStderr(id), transport.fill(this.engine, id)]);
        attachedStream = attached;
        stderr = collectTail(attached);
        if (isAborted(signal)) throw new StepFailure("interrupted", "interrupted before the step started");
        await this.engine.startContainer(id);
      } catch (error) {
        if (error instanceof StepFailure) throw error;
        throw engineFailure(error, "start", "the container could not be started");
      }
      // An abort that arrived while the container was created but not running killed nothing.
      if (killed !== undefined) kill(killed);

      timer = setTimeout(() => {
        kill("timeout");
      }, request.timeoutMs);
      let exitCode: number;
      try {
        exitCode = await this.engine.waitContainer(id);
      } catch (error) {
        throw engineFailure(error, "engine", "waiting for the step failed");
      }
      clearTimeout(timer);
      await Promise.race([
        stderr.done,
        new Promise((resolve) => setTimeout(resolve, STDERR_DRAIN_MS).unref()),
      ]);
      const tail = stderr.tail.text();
      setTail(tail);

      if (killed === "interrupted")
        throw new StepFailure("interrupted", "the replay was interrupted; the step was killed");
      if (killed === "timeout") {
        throw new StepFailure(
          "timeout",
          `the step ran longer than its limit of ${request.timeoutMs / 1000} s and was killed`,
        );
      }
      if (exitCode !== 0) {
        let oom = false;
        try {
          oom = await this.engine.wasOomKilled(id);
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
        return await transport.takeOutput(this.engine, id, {
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
      // The attach connection is hijacked HTTP: the engine does not always close it for a
      // container that never ran, and an open socket would keep the process alive.
      attachedStream?.destroy();
    }
  }
}
