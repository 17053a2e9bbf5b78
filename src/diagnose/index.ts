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
