/**
 * The replay's output folder: a lock so two replays never interleave in one folder, replayed
 * payloads under artifacts/, and a manifest replaced atomically (a previous one stays intact
 * until the new one is complete on disk).
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { ReplayError, messageOf } from "../errors/index.js";
import { sha256Hex } from "../hashing/index.js";
import { acquirePidLock, type PidLock } from "../locks/index.js";

/** A file name for an artifact or step id: ids are registry data and may contain `/` or `..`. */
export function safeFileName(id: string): string {
  const clean = id.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  if (clean === id && clean.length > 0 && clean.length <= 200) return id;
  return `${clean.slice(0, 180)}-${sha256Hex(id).slice(0, 12)}`;
}

function outputError(dir: string, error: unknown, doing: string): ReplayError {
  return new ReplayError("OUTPUT", `Cannot ${doing} in the output folder ${dir}: ${messageOf(error)}`, {
    hint: "Choose a writable folder with --out, or free space on its disk.",
    details: { path: dir },
    cause: error,
  });
}

export class OutDir {
  private constructor(
    readonly dir: string,
    private readonly lock: PidLock,
  ) {}

  static async acquire(dir: string, replayId: string): Promise<OutDir> {
    const abs = path.resolve(dir);
    try {
      await mkdir(path.join(abs, "artifacts"), { recursive: true });
    } catch (error) {
      throw outputError(abs, error, "create folders");
    }
    let lock: PidLock;
    try {
      lock = await acquirePidLock(
        path.join(abs, ".replay.lock"),
        replayId,
        (holder) =>
          new ReplayError(
            "OUTPUT",
            `The output folder ${abs} is in use by replay ${holder.label} (pid ${holder.pid}).`,
            {
              hint: "Wait for it to finish, or give this replay another --out folder.",
              details: { path: abs, pid: holder.pid },
            },
          ),
      );
    } catch (error) {
      if (error instanceof ReplayError) throw error;
      throw outputError(abs, error, "write");
    }
    return new OutDir(abs, lock);
  }

  artifactPath(artifactId: string): string {
    return path.join(this.dir, "artifacts", safeFileName(artifactId));
  }

  partialPath(stepId: string): string {
    return path.join(
      this.dir,
      "artifacts",
      `.partial-${safeFileName(stepId)}-${randomBytes(4).toString("hex")}`,
    );
  }

  relative(file: string): string {
    return path.relative(this.dir, file);
  }

  async promote(partial: string, artifactId: string): Promise<string> {
    const dest = this.artifactPath(artifactId);
    await rename(partial, dest);
    return dest;
  }

  async writeText(relativePath: string, text: string): Promise<string> {
    const dest = path.join(this.dir, relativePath);
    await this.atomicWrite(dest, text);
    return dest;
  }

  /** Write to a temporary name, fsync, rename: readers see the old file or the new one, never half. */
  async atomicWrite(dest: string, text: string): Promise<void> {
    const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await mkdir(path.dirname(dest), { recursive: true });
      const handle = await open(tmp, "wx");
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, dest);
    } catch (error) {
      await rm(tmp, { force: true });
      throw outputError(this.dir, error, `write ${path.basename(dest)}`);
    }
  }

  async release(): Promise<void> {
    await this.lock.release();
  }
}

export async function removeQuietly(file: string): Promise<void> {
  await rm(file, { force: true }).catch(() => undefined);
}
