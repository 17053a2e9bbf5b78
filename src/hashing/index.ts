export {
  CONTENT_HASH_RE,
  HashingStream,
  contentHashOf,
  isContentHash,
  sha256Hex,
  shortContentHash,
} from "./content-hash.js";
export { hashFile, hashOpenFile } from "./hash-file.js";
export type { HashedFile } from "./hash-file.js";
export { CanonicalJsonError, canonicalJson, describeJsonError, jsonPathText } from "./canonical-json.js";
export { envHashOf, inputHashOf } from "./recorded-hashes.js";
export type { EnvironmentColumns, NamedInputHash } from "./recorded-hashes.js";
export { HashMismatch, VerifyingStream } from "./verifying-stream.js";
