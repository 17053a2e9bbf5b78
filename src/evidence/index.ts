export {
  KEY_TYPES,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  keyIdOf,
  loadPublicKey,
  loadSigningKey,
  writeKeyPair,
} from "./key-pair.js";
export type { KeyType, PublicKey, SigningKey, WrittenKeyPair } from "./key-pair.js";
export { IN_TOTO_PAYLOAD_TYPE, checkSignature, pae, parseEnvelope, signEnvelope } from "./dsse-envelope.js";
export type { DsseEnvelope, DsseSignature, OpenedEnvelope, SignatureCheck } from "./dsse-envelope.js";
export {
  LEVELS,
  MANIFEST_SUBJECT,
  POLICY_URI,
  STATEMENT_TYPE,
  VSA_PREDICATE_TYPE,
  replayStatement,
  resourceUriOf,
} from "./replay-statement.js";
export type { ReplayPredicate, ReplayStatement, ReplayStepVerdict, Subject } from "./replay-statement.js";
export { ATTESTATION_FILE, ReplaySigner, defaultVerifierId, signerFor } from "./replay-signer.js";
export type { SignerChoice } from "./replay-signer.js";
export { checkSubjects, openAttestation } from "./verify-attestation.js";
export type { SubjectCheck, VerifiedAttestation, VerifyReport } from "./verify-attestation.js";
export { readAttestationSummary } from "./attestation-file.js";
export type { AttestationSummary } from "./attestation-file.js";
export { MANIFEST_SCHEMA_FILE, manifestProblems, manifestSchemaText } from "./manifest-schema.js";
export { exportRunCrate, readManifestOf } from "./run-crate.js";
export { outDirOfReplay } from "./replay-out-dir.js";
export type { ExportRequest, ExportResult } from "./run-crate.js";
export {
  PROFILES,
  RO_CRATE_CONTEXT,
  WORKFLOW_RUN_CONTEXT,
  replayVerdictWords,
  runCrateGraph,
  stepVerdictWords,
} from "./run-crate-graph.js";
export type { ArtifactEntry, CrateFile, CrateInputs, CrateStepTool } from "./run-crate-graph.js";
