import type { Chain, ChainStep } from "../chain/types.js";
import type { Manifest, ManifestStep } from "./manifest.js";

/** Progress events of a replay, for the terminal, the API and the web page. */
export interface ReplayReporter {
  planned?(info: { replayId: string; outDir: string; chain: Chain; executed: readonly ChainStep[] }): void;
  stepStarted?(step: ChainStep): void;
  /** `diffSummary`: with --diff, a few lines on what differs, for a mismatch. */
  stepFinished?(row: ManifestStep, extra?: { diffSummary?: string }): void;
  warning?(message: string): void;
  /** With --triage: a step's triage begins (after every step has finished). */
  triaging?(stepId: string): void;
  finished?(manifest: Manifest): void;
}
