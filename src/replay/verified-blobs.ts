/**
 * A blob store view that hashes each blob at most once per replay: a frozen input checked by
 * --strict, then consumed by a step, is read from disk and hashed once, not twice.
 */
import { BlobStore, type BlobCheck } from "../blobs/index.js";

export class VerifiedBlobs extends BlobStore {
  private readonly checks = new Map<string, Promise<BlobCheck>>();

  override check(contentHash: string): Promise<BlobCheck> {
    let pending = this.checks.get(contentHash);
    if (pending === undefined) {
      pending = super.check(contentHash);
      this.checks.set(contentHash, pending);
    }
    return pending;
  }
}
