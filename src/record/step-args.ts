/** `--args`: a JSON value inline, or `@file` holding one; recorded as `parameters.args`. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ReplayError, messageOf } from "../errors/index.js";
import { CanonicalJsonError, canonicalJson, describeJsonError } from "../hashing/index.js";

/** undefined when --args is absent: `args` is then left out and /in/params.json holds `null`. */
export async function parseStepArgs(raw: string | undefined, cwd = process.cwd()): Promise<unknown> {
  if (raw === undefined) return undefined;
  let text = raw;
  let where = "--args";
  if (raw.startsWith("@")) {
    const file = raw.slice(1);
    where = `--args file ${file}`;
    try {
      text = await readFile(path.resolve(cwd, file), "utf8");
    } catch (error) {
      throw new ReplayError("USAGE", `Cannot read ${where}: ${messageOf(error)}.`, {
        hint: "Give --args '<json>' or --args @<file holding JSON>.",
      });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReplayError("USAGE", `${where} is not valid JSON: ${messageOf(error)}.`, {
      hint: `Quote the JSON for your shell, e.g. --args '{"threshold": 0.5}', or put it in a file: --args @params.json.`,
    });
  }
  // What a replay hands the step is the canonical form; refuse values it cannot express (1e999).
  try {
    canonicalJson(value);
  } catch (error) {
    const what = error instanceof CanonicalJsonError ? describeJsonError("args", error) : messageOf(error);
    throw new ReplayError("USAGE", `${where} cannot be written as canonical JSON: ${what}.`, {
      hint: "Use finite numbers only.",
    });
  }
  return value;
}
