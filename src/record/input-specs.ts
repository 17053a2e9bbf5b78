/**
 * `--input` values of `run`: one bare `<artifact-id>` (a single-input step: /in/source), or
 * one or more `<name>=<artifact-id>` (rows of processing_step_inputs: /in/<name>, in order).
 */
import { inputNameProblem } from "../chain/index.js";
import { ReplayError } from "../errors/index.js";

export interface InputSpecs {
  /** True when the step gets processing_step_inputs rows (input_hash uses the lines form). */
  multiInput: boolean;
  inputs: { name: string; artifactId: string }[];
}

function usage(message: string, hint: string): ReplayError {
  return new ReplayError("USAGE", message, { hint });
}

const HINT =
  "Give one --input <artifact-id> (the step reads /in/source), or one --input <name>=<artifact-id> per input (the step reads /in/<name>).";

export function parseInputSpecs(values: readonly string[], stepType: string): InputSpecs {
  if (values.length === 0) throw usage("`run` needs at least one --input.", HINT);
  const named = values.map((value) => {
    const eq = value.indexOf("=");
    return eq < 0
      ? { name: null, artifactId: value }
      : { name: value.slice(0, eq), artifactId: value.slice(eq + 1) };
  });
  for (const spec of named) {
    if (spec.artifactId === "")
      throw usage(`--input ${JSON.stringify(values[named.indexOf(spec)])} names no artifact id.`, HINT);
  }
  const [first] = named;
  if (named.length === 1 && first !== undefined && first.name === null) {
    if (stepType === "merge") {
      throw usage("A merge step reads named inputs: give --input <name>=<artifact-id> for each.", HINT);
    }
    return { multiInput: false, inputs: [{ name: "source", artifactId: first.artifactId }] };
  }
  const seen = new Set<string>();
  const inputs: { name: string; artifactId: string }[] = [];
  for (const spec of named) {
    if (spec.name === null) {
      throw usage(
        `--input ${spec.artifactId} has no name, but this step has several inputs: each needs <name>=<artifact-id>.`,
        HINT,
      );
    }
    const problem = inputNameProblem(spec.name);
    if (problem !== null) {
      throw usage(
        `--input name ${JSON.stringify(spec.name)} is not allowed, ${problem}.`,
        "An input name is a plain file name under /in/: no '/', not '.' or '..', not params.json.",
      );
    }
    if (seen.has(spec.name))
      throw usage(
        `--input name ${JSON.stringify(spec.name)} is given twice.`,
        "Give each input its own name.",
      );
    seen.add(spec.name);
    inputs.push({ name: spec.name, artifactId: spec.artifactId });
  }
  return { multiInput: true, inputs };
}
