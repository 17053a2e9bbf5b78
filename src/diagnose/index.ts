export type { DiffReport, DiffRequest, PayloadDiffer } from "./payload-differ.js";
export type { DiffFolder, ExplainedMismatch, StepDiff } from "./step-diff.js";
export { explainMismatch } from "./step-diff.js";
export { builtinDiffer, builtinReport, diffPayloads } from "./builtin-diff.js";
export type { PayloadDiff } from "./builtin-diff.js";
export { DiffoscopeDiffer } from "./diffoscope-differ.js";
export type { DiffoscopeDifferOptions } from "./diffoscope-differ.js";
export { DEFAULT_DIFF_LIMITS } from "./diff-limits.js";
export type { DiffLimits } from "./diff-limits.js";
export {
  BUILD_DIFFOSCOPE_IMAGE_SCRIPT,
  DIFFOSCOPE_IMAGE,
  DIFFOSCOPE_IMAGE_HINT,
  DIFFOSCOPE_LABEL,
  ensureDiffoscopeImage,
} from "./diffoscope-image.js";
export type { DiffoscopeImage, DiffoscopeImageOptions } from "./diffoscope-image.js";
export { explainReport, MAX_EXPLANATION_CHARS } from "./diff-explanation.js";
export type { InputNames } from "./diff-explanation.js";
export { parseReport } from "./diffoscope-json.js";
export type { ReportNode } from "./diffoscope-json.js";
export { plainLine } from "./explanation-text.js";
export { diagnoseReplay, countVerdicts } from "./diagnose-replay.js";
export type { DiagnoseDeps, DiagnoseInput, DiagnosedRow } from "./diagnose-replay.js";
export { markImageDrift, recordedImageOf } from "./image-drift.js";
export type { DriftRow, ImageDrift, ImageHistory } from "./image-drift.js";
export { diffExplanationOf, triageSentence } from "./triage-sentence.js";
export type {
  StepTriage,
  TriageCounts,
  TriageRun,
  TriageScope,
  TriageSkip,
  TriageVerdict,
  VariationName,
} from "./triage-types.js";
