export {
  CONTENT_HASH_RE,
  HashingStream,
  contentHashOf,
  hashFile,
  isContentHash,
  sha256Hex,
  shortContentHash,
} from "./content-hash.js";
export type { HashedFile } from "./content-hash.js";
export { canonicalJson } from "./canonical-json.js";
export { envHashOf, inputHashOf } from "./recorded-hashes.js";
export type { EnvironmentColumns, NamedInputHash } from "./recorded-hashes.js";
