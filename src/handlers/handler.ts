/**
 * One handler per step type. The replay orchestrator (src/replay/) picks a handler by
 * step_type, hands it the step's already-verified inputs, and compares what comes back.
 */
import type { BlobStore } from "../blobs/index.js";
import type { ChainStep } from "../chain/types.js";
import type { ImageResolver, ImageSource } from "../images/types.js";
import type { StepExecutor } from "../runner/types.js";

export interface ReplayInput {
  name: string;
  artifactId: string;
  contentHash: string;
  size: number;
  /** A file holding exactly these bytes (a blob, or an upstream step's replayed output). */
  file: string;
}

export interface HandlerContext {
  chainStep: ChainStep;
  inputs: ReplayInput[];
  /** Where a handler that produces bytes writes them. */
  outputFile: string;
  blobs: BlobStore;
  executor: StepExecutor;
  images: ImageResolver;
  runId: string;
  signal: AbortSignal;
  warn(message: string): void;
}

export type HandlerOutcome =
  | {
      kind: "replayed";
      contentHash: string;
      size: number;
      /** Where the replayed bytes are (outputFile, or the blob itself for ingest). */
      file: string;
      imageRef?: string | undefined;
      imageId?: string | undefined;
      /** The shared registry's manifest digest of the image, and where the image came from. */
      imageDigest?: string | null | undefined;
      imageSource?: ImageSource | undefined;
    }
  | { kind: "unreplayable"; reason: string }
  | { kind: "failed"; reason: string };

export type HandlerMode = "frozen" | "builtin" | "container" | "unreplayable";

/** What a handler may start before the step's inputs exist (upstream steps still running). */
export type PrepareContext = Omit<HandlerContext, "inputs">;

/** A step prepared ahead; exactly one of replay() and discard() is called. */
export interface PreparedReplay {
  replay(inputs: ReplayInput[]): Promise<HandlerOutcome>;
  discard(): void;
}

export interface StepHandler {
  readonly stepType: string;
  readonly mode: HandlerMode;
  replay(context: HandlerContext): Promise<HandlerOutcome>;
  /**
   * Optional: start what does not depend on the inputs (container steps: check the script,
   * resolve the image, create the container) while upstream steps still run.
   */
  prepare?(context: PrepareContext): PreparedReplay;
}
