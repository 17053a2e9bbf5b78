/**
 * The Docker step executor: one hardened container per step (step-container.ts), its files
 * through host mounts or archives (step-transport.ts). A step can be prepared (container
 * created, script in) while its upstream steps still run, then run once its inputs exist.
 * Containers and staged folders are removed in the background once a step's result is known;
 * `settled()` waits for that.
 */
import { lstat } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { messageOf } from "../errors/index.js";
import { archiveTransport } from "./archive-transport.js";
import type { DockerEngine } from "./engine-port.js";
import { hostTransport } from "./host-transport.js";
import { bytesSource, isPlainFileName } from "./payload-source.js";
import type { StagingRoot } from "./staging-root.js";
import {
  HostMountsRefused,
  isAborted,
  prepareContainer,
  runContainer,
  type CreatedContainer,
} from "./step-container.js";
import { StepFailure, failedResult } from "./step-failure.js";
import type { StepTransport } from "./step-transport.js";
import type {
  ContainerStepRequest,
  ContainerStepResult,
  PayloadSource,
  PreparedStep,
  PreparedStepRequest,
  StepExecutor,
  StepVariation,
  VariationSupport,
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
  /**
   * A tmpfs-backed staging root, for triage's "order" variation (host-transport.ts); undefined:
   * that variation cannot be applied.
   */
  listingStaging?: StagingRoot | undefined;
}

const NEEDS_HOST_MOUNTS =
  "it needs host mounts (an engine on this host, REPLAY_HOST_MOUNTS=auto): a remote engine cannot see this host's files";

/** The contract's rules for names under /in. */
function inputNameProblem(inputs: PayloadSource[]): string | undefined {
  const seen = new Set<string>();
  for (const input of inputs) {
    if (!isPlainFileName(input.name) || input.name === "params.json") {
      return `input name ${JSON.stringify(input.name)} is not a plain file name (or is params.json)`;
    }
    if (seen.has(input.name)) return `input name ${JSON.stringify(input.name)} appears twice`;
    seen.add(input.name);
  }
  return undefined;
}

function codeNameProblem(code: PayloadSource): string | undefined {
  return isPlainFileName(code.name)
    ? undefined
    : `code name ${JSON.stringify(code.name)} is not a plain file name`;
}

/** The contract's rules for names under /in and /code. */
export function checkRequestNames(request: ContainerStepRequest): string | undefined {
  return inputNameProblem(request.inputs) ?? codeNameProblem(request.code);
}

/** Latest Unix second a Date (and so a tar header) holds. */
const LAST_DATE_SECOND = 8.64e12;

/** The staged files' mtime: SOURCE_DATE_EPOCH, or 0 before 1970 and beyond what a Date holds. */
function sourceDateEpoch(env: Record<string, string>): number {
  const value = Number(env.SOURCE_DATE_EPOCH);
  return Number.isSafeInteger(value) && value >= 0 && value <= LAST_DATE_SECOND ? value : 0;
}

/** What one step holds in the engine and on the host, whichever half it got to. */
interface StepResources {
  transport?: StepTransport | undefined;
  container?: CreatedContainer | undefined;
}

export class DockerStepExecutor implements StepExecutor, AsyncDisposable {
  private readonly engine: DockerEngine;
  private readonly cpus: number | undefined;
  private readonly maxOutputBytes: number | undefined;
  private staging: StagingRoot | undefined;
  private readonly bindOut: boolean;
  private readonly listingStaging: StagingRoot | undefined;
  private readonly cleanups = new Set<Promise<void>>();
  /** What background clean-up could not remove, until settled() hands it out. */
  private cleanupProblems: string[] = [];

  constructor(options: DockerStepExecutorOptions) {
    this.engine = options.engine;
    this.cpus = options.cpus;
    this.maxOutputBytes = options.maxOutputBytes;
    this.staging = options.staging;
    this.bindOut = options.bindOut ?? process.getuid?.() === 0;
    this.listingStaging = options.listingStaging;
  }

  variationSupport(): VariationSupport {
    const hostFiles = this.staging === undefined ? NEEDS_HOST_MOUNTS : null;
    return {
      readOnlyFiles: hostFiles,
      inOrder:
        hostFiles ??
        (this.listingStaging === undefined
          ? "no tmpfs folder on this host to stage /in in another order"
          : null),
    };
  }

  /** Archives or host mounts, whichever this executor uses now. */
  get transport(): "archives" | "host-mounts" {
    return this.staging === undefined ? "archives" : "host-mounts";
  }

  runStep(request: ContainerStepRequest): Promise<ContainerStepResult> {
    const { inputs, ...prepared } = request;
    return this.prepareStep(prepared).run(inputs);
  }

  prepareStep(original: PreparedStepRequest): PreparedStep {
    const request =
      this.maxOutputBytes === undefined || this.maxOutputBytes >= original.maxOutputBytes
        ? original
        : { ...original, maxOutputBytes: this.maxOutputBytes };
    const held: StepResources = {};
    const preparing = this.prepare(request, held);
    preparing.catch(() => undefined); // run() reports it
    let done = false;
    const release = () => {
      this.release(preparing, held, request.stepId);
    };
    return {
      run: async (inputs: PayloadSource[]): Promise<ContainerStepResult> => {
        if (done) throw new Error("internal: a prepared step ran twice");
        done = true;
        const started = performance.now();
        const durationMs = (): number => Math.round(performance.now() - started);
        let stderrTail: string | undefined;
        try {
          const badName = inputNameProblem(inputs);
          if (badName !== undefined) throw new StepFailure("start", badName);
          await preparing;
          if (held.container === undefined) throw new StepFailure("start", "the container was not created");
          const all = [...inputs, bytesSource("params.json", request.params)];
          const outcome = await runContainer(
            this.engine,
            held.container,
            request,
            all,
            (tail) => (stderrTail = tail),
          );
          return {
            status: "succeeded",
            ...outcome,
            durationMs: durationMs(),
            imageId: request.image,
            stderrTail: stderrTail ?? "",
          };
        } catch (error) {
          return failedResult(error, {
            aborted: isAborted(request.signal),
            stderrTail,
            durationMs: durationMs(),
            imageId: request.image,
          });
        } finally {
          release();
        }
      },
      discard: () => {
        if (done) return;
        done = true;
        release();
      },
    };
  }

  async ready(): Promise<void> {
    await this.staging?.prepare();
  }

  /** Resolves once every finished step's container and folder are removed, with what was left. */
  async settled(): Promise<string[]> {
    while (this.cleanups.size > 0) await Promise.all(this.cleanups);
    return this.cleanupProblems.splice(0);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.settled();
  }

  private async prepare(request: PreparedStepRequest, held: StepResources): Promise<void> {
    const badName = codeNameProblem(request.code);
    if (badName !== undefined) throw new StepFailure("start", badName);
    if (isAborted(request.signal))
      throw new StepFailure("interrupted", "interrupted before the step started");
    const mtime = sourceDateEpoch(request.env);
    await this.checkVariation(request.variation);
    for (;;) {
      held.transport = await this.transportFor(request.code, mtime, request.variation);
      try {
        await prepareContainer(this.engine, held.transport, { ...request, cpus: this.cpus }, (container) => {
          held.container = container;
        });
        return;
      } catch (error) {
        if (!(error instanceof HostMountsRefused)) throw error;
        // Nothing was created; from now on this executor uses archives.
        await held.transport[Symbol.asyncDispose]();
        held.transport = undefined;
        this.staging = undefined;
      }
    }
  }

  /** A variation this executor cannot apply fails the run before anything is created. */
  private async checkVariation(variation: StepVariation | undefined): Promise<void> {
    if (variation === undefined) return;
    const support = this.variationSupport();
    if (variation.readOnlyFiles !== undefined && support.readOnlyFiles !== null)
      throw new StepFailure("start", `the variation cannot be applied: ${support.readOnlyFiles}`);
    if (variation.inOrder !== undefined && support.inOrder !== null)
      throw new StepFailure("start", `the variation cannot be applied: ${support.inOrder}`);
    for (const file of variation.readOnlyFiles ?? []) {
      // A regular file, not a link that could point the mount elsewhere.
      const entry = await lstat(file.source).catch(() => undefined);
      if (entry?.isFile() !== true)
        throw new StepFailure("start", `the variation's file ${file.source} is not a regular file here`);
    }
  }

  private async transportFor(
    code: PayloadSource,
    mtime: number,
    variation: StepVariation | undefined,
  ): Promise<StepTransport> {
    if (this.staging === undefined) return archiveTransport(code, mtime);
    try {
      return await hostTransport(this.staging, code, mtime, {
        bindOut: this.bindOut,
        reversedListing: variation?.inOrder === "reversed" ? this.listingStaging : undefined,
      });
    } catch (error) {
      throw new StepFailure("start", `staging the step's files on the host failed: ${messageOf(error)}`);
    }
  }

  /**
   * Removes the step's container, then the folder it mounted, while the next step already
   * runs: the result is known, only the clean-up is left (a few ms to tens of ms per step).
   */
  private release(preparing: Promise<void>, held: StepResources, stepId: string): void {
    const cleanup = (async () => {
      await preparing.catch(() => undefined);
      const { container, transport } = held;
      // The attach connection is hijacked HTTP: the engine does not always close it for a
      // container that never ran, and an open socket would keep the process alive.
      container?.attached?.destroy();
      // If the engine is gone this fails too; the reaper removes what is left on the next run.
      if (container !== undefined) await this.engine.removeContainer(container.id).catch(() => undefined);
      // A staged folder that resists (a mount point in it, a file system that refuses) stays
      // until `gc`; the step's result stands, the replay says what was left.
      if (transport !== undefined) {
        await Promise.resolve(transport[Symbol.asyncDispose]()).catch((error: unknown) => {
          this.cleanupProblems.push(`step ${stepId}: its staged files were not removed: ${messageOf(error)}`);
        });
      }
    })();
    this.cleanups.add(cleanup);
    void cleanup.finally(() => this.cleanups.delete(cleanup));
  }
}
