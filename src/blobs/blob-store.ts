/**
 * The contract's content-addressed blob store: `<root>/sha256/<2 hex>/<64 hex>`.
 * Payloads reach many GiB, so everything streams; nothing holds a payload in memory.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { link, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ReplayError, messageOf } from "../errors/index.js";
import { makeFolders, type FolderPurpose } from "../fs/index.js";
import { HashingStream, hashFile, isContentHash } from "../hashing/index.js";

export type BlobCheck =
  | { state: "intact"; size: number }
  | { state: "missing"; path: string }
  | { state: "corrupted"; path: string; actualHash: string; size: number };

export interface StoredBlob {
  contentHash: string;
  size: number;
  path: string;
}

const BLOB_FOLDER: FolderPurpose = {
  what: "a folder of the blob store",
  hint: "Point REPLAY_BLOBS (or --blobs) at the blob store's root folder (the one that holds sha256/), on a disk you can write.",
  // REPLAY_BLOBS naming a file is a setting to fix, not an output folder problem.
  notAFolderCode: "USAGE",
};

export class BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  pathFor(contentHash: string): string {
    if (!isContentHash(contentHash)) {
      throw new ReplayError(
        "REGISTRY_DATA",
        `"${contentHash}" is not a content hash (sha256: + 64 lowercase hex digits).`,
      );
    }
    const hex = contentHash.slice("sha256:".length);
    return path.join(this.root, "sha256", hex.slice(0, 2), hex);
  }

  /**
   * Throws USAGE when the root exists but is not a folder (REPLAY_BLOBS pointing at a file): every
   * blob would then look missing for a reason no row has. A missing root is fine: nothing stored yet.
   */
  async checkRoot(): Promise<void> {
    const info = await stat(this.root).catch(() => undefined);
    if (info === undefined || info.isDirectory()) return;
    throw new ReplayError("USAGE", `The blob store ${this.root} is a file, not a folder.`, {
      hint: BLOB_FOLDER.hint,
      details: { path: this.root },
    });
  }

  /** Streams the blob once through SHA-256: is it there, and do its bytes still hash to its name? */
  async check(contentHash: string): Promise<BlobCheck> {
    const file = this.pathFor(contentHash);
    try {
      const hashed = await hashFile(file);
      if (hashed.contentHash === contentHash) return { state: "intact", size: hashed.size };
      return { state: "corrupted", path: file, actualHash: hashed.contentHash, size: hashed.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { state: "missing", path: file };
      // Not the output folder's problem, nor a row's: the blob store is not what it should be.
      throw new ReplayError(
        "USAGE",
        `Cannot read blob ${file} in the blob store ${this.root}: ${messageOf(error)}`,
        { hint: BLOB_FOLDER.hint, details: { path: file }, cause: error },
      );
    }
  }

  /** Opens a blob for streaming without verification (callers that hash as they go). */
  openRaw(contentHash: string): Readable {
    return createReadStream(this.pathFor(contentHash), { highWaterMark: 1 << 20 });
  }

  /**
   * Stores a stream: write to a temporary name under the store, fsync, hash on the way,
   * then rename into place. A blob that already exists is never rewritten.
   */
  async putStream(source: Readable): Promise<StoredBlob> {
    const tmp = await this.tempPath();
    const hasher = new HashingStream();
    try {
      await pipeline(source, hasher, createWriteStream(tmp, { flags: "wx", mode: 0o444 }));
      return await this.commit(tmp, hasher.contentHash, hasher.size);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Stores a file that is already hashed (e.g. a replayed output) by linking or copying it in. */
  async putFile(file: string, known?: { contentHash: string; size: number }): Promise<StoredBlob> {
    const hashed = known ?? (await hashFile(file));
    const dest = this.pathFor(hashed.contentHash);
    if (await fileExists(dest)) return { ...hashed, path: dest };
    const tmp = await this.tempPath();
    try {
      try {
        await link(file, tmp);
      } catch {
        await pipeline(createReadStream(file), createWriteStream(tmp, { flags: "wx", mode: 0o444 }));
      }
      return await this.commit(tmp, hashed.contentHash, hashed.size);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async tempPath(): Promise<string> {
    const dir = path.join(this.root, "sha256");
    await makeFolders(dir, BLOB_FOLDER);
    return path.join(dir, `.incoming-${process.pid}-${randomBytes(6).toString("hex")}`);
  }

  private async commit(tmp: string, contentHash: string, size: number): Promise<StoredBlob> {
    const dest = this.pathFor(contentHash);
    if (await fileExists(dest)) return { contentHash, size, path: dest };
    const handle = await open(tmp, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await makeFolders(path.dirname(dest), BLOB_FOLDER);
    await rename(tmp, dest);
    return { contentHash, size, path: dest };
  }
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
