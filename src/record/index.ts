export { CONTAINER_STEP_TYPES, prepareContainerStep, recordContainerStep } from "./record-container-step.js";
export type {
  ContainerStepDeps,
  ContainerStepRequest,
  PreparedContainerStep,
} from "./record-container-step.js";
export { citationParameters, recordCitation } from "./record-citation.js";
export type { CiteRequest } from "./record-citation.js";
export { describeArtifact } from "./describe-artifact.js";
export type { ArtifactDescription } from "./describe-artifact.js";
export { descriptionToJson, descriptionToText } from "./description-output.js";
export type { DescriptionJson, PayloadJson, ProducerJson } from "./description-output.js";
export { parseInputSpecs } from "./input-specs.js";
export type { InputSpecs } from "./input-specs.js";
export { loadArtifact, loadInputs } from "./load-artifacts.js";
export { extensionFor, mediaTypeFor } from "./media-types.js";
export { recordFork } from "./record-fork.js";
export type { ForkRequest } from "./record-fork.js";
export { newArtifactId, newStepId, userArtifactId } from "./record-ids.js";
export { recordIngest } from "./record-ingest.js";
export type { IngestRequest } from "./record-ingest.js";
export { withRecordRegistry } from "./record-registry.js";
export type { NewArtifact, NewEnvironment, NewRecord, NewStep } from "./record-rows.js";
export { parseStepArgs } from "./step-args.js";
export { environmentRow, readLockfile } from "./step-environment-row.js";
export type { EnvChoice } from "./step-environment-row.js";
export { stderrExcerpt, stepFailedError } from "./step-failure.js";
export { assertArtifactIdFree, writeRecord } from "./write-record.js";
