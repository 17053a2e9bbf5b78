import { sha256Hex } from "./content-hash.js";

export interface NamedInputHash {
  name: string;
  contentHash: string;
}

/**
 * The contract's input_hash: one input is its content_hash; several are the hash of
 * `<name>=<content_hash>\n` lines in position order; none (ingest) is null.
 */
export function inputHashOf(inputs: readonly NamedInputHash[], multiInput: boolean): string | null {
  if (inputs.length === 0) return null;
  const [only] = inputs;
  if (!multiInput && inputs.length === 1 && only) return only.contentHash;
  return `sha256:${sha256Hex(inputs.map((i) => `${i.name}=${i.contentHash}\n`).join(""))}`;
}

export interface EnvironmentColumns {
  baseImage: string;
  lockfileKind: string;
  requirementsLock: string;
}

/** The contract's env_hash over `<base_image>\n<lockfile_kind>\n<requirements_lock>`. */
export function envHashOf(env: EnvironmentColumns): string {
  return `sha256:${sha256Hex(`${env.baseImage}\n${env.lockfileKind}\n${env.requirementsLock}`)}`;
}
