/**
 * What a container step needs and what comes back. The Docker implementation lives in
 * runner/container-step-runner.ts; a future Kubernetes executor implements the same interface.
 */
import type { Readable } from "node:stream";

/** A payload to place in the container: a file in the blob store or a replayed output. */
export interface PayloadSource {
  /** Plain file name (no `/`): /in/<name> or /code/<name>. */
  name: string;
  size: number;
  open(): Readable;
  /** The host file behind it, when there is one: host mounts copy it in the kernel. */
  file?: string | undefined;
}

export interface ContainerStepRequest {
  /** For labels and messages. */
  stepId: string;
  runId: string;
  /** Image id or reference; it must already exist on the engine (see images/). */
  image: string;
  command: string[];
  /** /in/<name>, read-only to the step. */
  inputs: PayloadSource[];
  /** /in/params.json bytes. */
  params: Uint8Array;
  /** /code/<name>. */
  code: PayloadSource;
  /** Exactly these variables; nothing from the host. */
  env: Record<string, string>;
  timeoutMs: number;
  memoryBytes: number;
  /** Where the runner writes the bytes of /out/output. */
  outputFile: string;
  maxOutputBytes: number;
  signal?: AbortSignal | undefined;
  /** Triage's change to the sandbox (src/diagnose/); absent: exactly the contract's view. */
  variation?: StepVariation | undefined;
}

/**
 * One thing that must not matter to a deterministic step, changed for one run. Every hardening
 * property stays (read-only root, no network, no capabilities, uid 65534, limits).
 */
export interface StepVariation {
  /** HostConfig.CpusetCpus, e.g. "0": `nproc` and `os.sched_getaffinity` follow it. */
  cpusetCpus?: string | undefined;
  /**
   * Host files mounted read-only under /.replay-runner/ (a library to preload). Host mounts
   * only: a remote engine cannot see the host's files.
   */
  readOnlyFiles?: { source: string; target: string }[] | undefined;
  /** Variables set over the step's own (TZ, PYTHONHASHSEED, LD_PRELOAD, ...). */
  env?: Record<string, string> | undefined;
  /**
   * "reversed": /in lists its entries in the reverse of the order the normal staging gives,
   * from a tmpfs folder whose listing follows creation order. Host mounts only.
   */
  inOrder?: "reversed" | undefined;
  /** Instead of the contract's "replay". */
  hostname?: string | undefined;
  /** Octal, e.g. "0002": /bin/sh sets it, then execs the recorded argv. */
  umask?: string | undefined;
  /** The machine `uname -m` reports, e.g. "i686": the image's `setarch` execs the recorded argv. */
  arch?: string | undefined;
}

/** Which variations this executor can apply: null when it can, else why not. */
export interface VariationSupport {
  readOnlyFiles: string | null;
  inOrder: string | null;
}

export type StepFailureKind =
  | "exit" // non-zero exit status
  | "timeout"
  | "oom"
  | "start" // the container could not be created or started
  | "output" // /out/output missing, or the archive broke a rule (symlink, .., size, ...)
  | "interrupted"
  | "engine"; // the Docker engine failed or went away mid-step

export type ContainerStepResult =
  | {
      status: "succeeded";
      contentHash: string;
      size: number;
      durationMs: number;
      imageId: string;
      stderrTail: string;
    }
  | {
      status: "failed";
      failure: StepFailureKind;
      reason: string;
      exitCode?: number | undefined;
      stderrTail?: string | undefined;
      durationMs: number;
      imageId?: string | undefined;
    };

/** A step before its inputs are known: enough to create its container. */
export type PreparedStepRequest = Omit<ContainerStepRequest, "inputs">;

/**
 * A step whose container is being created while its upstream steps still run (the container
 * needs everything but the inputs). Exactly one of run() and discard() is called.
 */
export interface PreparedStep {
  /** Puts the inputs in, runs the step, takes its output, removes the container. */
  run(inputs: PayloadSource[]): Promise<ContainerStepResult>;
  /** The step will not run after all: remove whatever was prepared. */
  discard(): void;
}

export interface StepExecutor {
  runStep(request: ContainerStepRequest): Promise<ContainerStepResult>;
  prepareStep(request: PreparedStepRequest): PreparedStep;
  /**
   * Makes what every step needs on the host (host mounts' staging folder), before any step runs:
   * a folder that cannot be created is an error of the replay (exit 6), not of each step.
   */
  ready?(): Promise<void>;
  /**
   * Waits until finished steps are cleaned up (removed in the background) and returns what
   * could not be removed since the last call: warnings, never failures.
   */
  settled?(): Promise<string[]>;
  /** Optional: which of StepVariation's host-side knobs work here (absent: none of them). */
  variationSupport?(): VariationSupport;
}
