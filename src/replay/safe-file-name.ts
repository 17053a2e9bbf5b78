/**
 * File names in the output folder for artifact and step ids, which are registry data: any
 * string, `/` and `..` included. The mapping must be injective over every possible id, or two
 * artifacts would share one file and a step could read bytes another step wrote:
 *
 * - a plain id (letters, digits, `.`, `_`, `-`, not starting with `.`, at most 200 characters)
 *   is its own name;
 * - any other id is named `<its plain characters, at most 135>=<SHA-256 of the id, 64 hex>`.
 *   A plain id never contains `=`, so no plain id can take such a name, and two such names are
 *   equal only for two ids with the same SHA-256.
 *
 * Names are at most 200 characters: room for prefixes and suffixes within NAME_MAX (255).
 */
import { sha256Hex } from "../hashing/index.js";

const PLAIN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export function isPlainId(id: string): boolean {
  return PLAIN.test(id);
}

/** The name for an id that is not plain; also the fallback for a plain one (see OutDir.claim). */
export function hashedFileName(id: string): string {
  const readable = id
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^\./, "_")
    .slice(0, 135);
  return `${readable}=${sha256Hex(id)}`;
}

export function safeFileName(id: string): string {
  return isPlainId(id) ? id : hashedFileName(id);
}
