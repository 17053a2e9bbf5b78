export { BlobStore } from "./blob-store.js";
export type { BlobCheck, StoredBlob } from "./blob-store.js";
