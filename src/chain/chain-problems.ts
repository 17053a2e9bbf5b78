/**
 * What can be structurally wrong with the rows behind a chain. The walk collects every
 * problem before failing, so a user fixes a broken registry in one pass rather than one
 * error per run.
 */
import { ReplayError } from "../errors/index.js";
import { rowProblemMessage, type RowProblem } from "./row-schemas.js";

export type ChainProblem =
  | RowProblem
  | {
      kind: "dangling_reference";
      stepId: string;
      artifactId: string;
      /** Where the reference is: processing_steps.source_artifact_id, ... */
      column: string;
    }
  | { kind: "duplicate_producer"; artifactId: string; stepIds: string[] }
  | { kind: "cycle"; stepIds: string[] }
  | { kind: "input_position_gap"; stepId: string; positions: number[] }
  | {
      kind: "input_source_mismatch";
      stepId: string;
      sourceArtifactId: string | null;
      firstInputArtifactId: string;
    }
  | { kind: "bad_input_name"; stepId: string; position: number; name: string; reason: string };

/** A name as a message shows it: a long one cut to its first 60 characters. */
function shortName(name: string): string {
  return name.length > 64 ? `${name.slice(0, 60)}...` : name;
}

/** Messages list at most this many problems; `details.problems` always holds all of them. */
const LISTED = 20;

export function chainProblemMessage(p: ChainProblem): string {
  switch (p.kind) {
    case "malformed_row":
      return rowProblemMessage(p);
    case "dangling_reference":
      return `step ${p.stepId}: ${p.column} references artifact ${p.artifactId}, which does not exist`;
    case "duplicate_producer":
      return `artifact ${p.artifactId} is produced by ${p.stepIds.length} steps (${p.stepIds.join(", ")}); at most one may produce it`;
    case "cycle":
      return `steps ${p.stepIds.join(", ")} form a cycle: each depends, through its inputs, on the others`;
    case "input_position_gap":
      return `step ${p.stepId}: processing_step_inputs positions are ${p.positions.join(", ")}, not 0..${p.positions.length - 1} without gaps`;
    case "input_source_mismatch":
      return `step ${p.stepId}: source_artifact_id is ${p.sourceArtifactId ?? "NULL"} but the input at position 0 is ${p.firstInputArtifactId}`;
    case "bad_input_name":
      return `step ${p.stepId}: input at position ${p.position} has name ${JSON.stringify(shortName(p.name))}, ${p.reason}`;
  }
}

/** Why an input name breaks the contract ("a plain file name: no `/`, not . or .., not params.json"), or null. */
export function inputNameProblem(name: string): string | null {
  if (name === "") return "which is empty";
  if (name.includes("/")) return "which contains '/' (it must be a plain file name)";
  if (name === "." || name === "..") return "which is not a file name";
  if (name === "params.json") return "which is reserved for /in/params.json";
  if (name.includes("\0")) return "which contains a NUL byte";
  if (Buffer.byteLength(name, "utf8") > 255) return "which is longer than a file name's 255 bytes";
  return null;
}

export function chainProblemsError(artifactId: string, problems: readonly ChainProblem[]): ReplayError {
  const listed = problems.slice(0, LISTED).map((p) => `  - ${chainProblemMessage(p)}`);
  if (problems.length > LISTED)
    listed.push(`  - ... and ${problems.length - LISTED} more (see details.problems)`);
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return new ReplayError(
    "REGISTRY_DATA",
    `The registry's rows upstream of artifact ${artifactId} do not form a replayable chain (${count}):\n${listed.join("\n")}`,
    {
      hint: "Fix these rows in the registry (replay-runner never rewrites them); `replay-runner lineage` shows the chain once they are fixed.",
      details: { artifactId, problems },
    },
  );
}
