export {
  walkChain,
  walkChains,
  walkUnion,
  PROVENANCE_WALK_SQL,
  UNION_ENVIRONMENTS_SQL,
  UNION_WALK_SQL,
} from "./provenance-walk.js";
export type { ChainUnion } from "./provenance-walk.js";
export { renderLineageTree, environmentLabel } from "./lineage-tree.js";
export type { TreeOptions, TreeStyle } from "./lineage-tree.js";
export { chainToJson, artifactToJson, environmentToJson } from "./chain-json.js";
export type { ArtifactJson, ChainJson, EnvironmentJson, StepJson } from "./chain-json.js";
export { epochSecondsOf, parseRecordedTime } from "./recorded-time.js";
export type { RecordedTime } from "./recorded-time.js";
export { stepTypeCounts } from "./step-type-counts.js";
export type { StepTypeCount } from "./step-type-counts.js";
export { environmentStateOf, isEnvironmentProblem } from "./environment-state.js";
export { chainProblemMessage, chainProblemsError, inputNameProblem } from "./chain-problems.js";
export type { ChainProblem } from "./chain-problems.js";
export { compareIds, topologicalOrder } from "./topological-order.js";
export type { TopologicalResult } from "./topological-order.js";
export {
  artifactRowSchema,
  environmentRowSchema,
  parseRow,
  parseRowOrThrow,
  rowProblemMessage,
  stepInputRowSchema,
  stepRowSchema,
  stepTypeCountRowSchema,
} from "./row-schemas.js";
export type { RegistryTable, RowProblem, StepInputRowWithStep } from "./row-schemas.js";
export type {
  Artifact,
  Chain,
  ChainInput,
  ChainStep,
  Environment,
  EnvironmentState,
  Step,
  StepInputRow,
} from "./types.js";
