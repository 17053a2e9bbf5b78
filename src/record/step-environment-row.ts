/**
 * The environment a recorded container step runs in, as an `environments` row.
 *
 * - `--env requirements.lock`: lockfile_kind `pip`, the file's text as requirements_lock.
 * - default: lockfile_kind `none` on the base image. The step did run in the sandbox on a
 *   known image, so its environment IS pinned; a NULL env_hash would claim it ran outside.
 * - `--no-env`: env_hash NULL, as production records steps that ran outside the sandbox
 *   (a replay then warns that the environment was never pinned).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Environment } from "../chain/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import { envHashOf } from "../hashing/index.js";
import type { NewEnvironment } from "./record-rows.js";

export type EnvChoice = { kind: "lockfile"; file: string } | { kind: "base" } | { kind: "none" };

/** Requirement lines (continuations joined, comments dropped) that lack `--hash=`: pip's --require-hashes refuses them. */
function unhashedRequirements(lock: string): string[] {
  const logical = lock.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  return logical
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("-") && !line.includes("--hash="));
}

export async function readLockfile(file: string, cwd = process.cwd()): Promise<string> {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(full, "utf8");
  } catch (error) {
    throw new ReplayError("USAGE", `Cannot read the lockfile ${file}: ${messageOf(error)}.`, {
      hint: "Give --env a requirements.lock in pip's hash-checking format, or --no-env.",
    });
  }
  const unhashed = unhashedRequirements(text);
  if (unhashed.length > 0) {
    throw new ReplayError(
      "USAGE",
      `The lockfile ${file} pins requirements without a hash: ${unhashed.slice(0, 5).join("; ")}.`,
      {
        hint: "Every line needs `name==version --hash=sha256:<hex>` (e.g. `pip hash <wheel>` gives the hash); the environment is installed with --require-hashes.",
      },
    );
  }
  return text;
}

export async function environmentRow(
  choice: EnvChoice,
  baseImage: string,
  cwd = process.cwd(),
): Promise<NewEnvironment | null> {
  if (choice.kind === "none") return null;
  const columns =
    choice.kind === "lockfile"
      ? { baseImage, lockfileKind: "pip", requirementsLock: await readLockfile(choice.file, cwd) }
      : { baseImage, lockfileKind: "none", requirementsLock: "" };
  return { ...columns, envHash: envHashOf(columns) };
}

/** The row as the image resolver and the replay see it. */
export function asEnvironment(row: NewEnvironment): Environment {
  return {
    envHash: row.envHash,
    baseImage: row.baseImage,
    lockfileKind: row.lockfileKind,
    requirementsLock: row.requirementsLock,
  };
}
