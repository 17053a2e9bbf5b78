/**
 * The replay's output folder: a lock so two replays never interleave in one folder, one replay
 * per folder (another one's files are refused, or with --force removed before anything runs),
 * replayed payloads under artifacts/ and diffs under diffs/, each under a name claimed once
 * (safe-file-name.ts), and a manifest written atomically (never seen half-written).
 */
import { randomBytes } from "node:crypto";
import { copyFile, link, lstat, open, readFile, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { ReplayError, messageOf } from "../errors/index.js";
import { makeFolders, removeTree, type FolderPurpose } from "../fs/index.js";
import { acquirePidLock, type PidLock } from "../locks/index.js";
import { hashedFileName, safeFileName } from "./safe-file-name.js";

const LOCK_FILE = ".replay.lock";
const MANIFEST = "manifest.json";

const OUT_FOLDER: FolderPurpose = {
  what: "the output folder",
  hint: "Choose a folder you can write with --out.",
};

export interface OutDirOptions {
  /** Replace a previous replay in the folder (its manifest, artifacts/ and diffs/) instead of refusing. */
  force?: boolean | undefined;
  /** Entries that belong to this run, not to another replay (a queued batch's store/ and work/). */
  ownEntries?: readonly string[] | undefined;
}

function outputError(dir: string, error: unknown, doing: string): ReplayError {
  return new ReplayError("OUTPUT", `Cannot ${doing} in the output folder ${dir}: ${messageOf(error)}`, {
    hint: "Choose a writable folder with --out, or free space on its disk.",
    details: { path: dir },
    cause: error,
  });
}

function kindOf(info: Awaited<ReturnType<typeof lstat>>): string {
  if (info.isDirectory()) return "a folder";
  if (info.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/** The replay id in a previous manifest, when it reads as one (it is printed). */
async function previousReplayId(manifest: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(manifest, "utf8")) as { replay_id?: unknown };
    const id = parsed.replay_id;
    return typeof id === "string" && /^[A-Za-z0-9._-]{1,100}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A folder that held a replay before: refused, or with `force` emptied of that replay first.
 * Its manifest goes first, so that no manifest ever describes payloads it did not write; then
 * artifacts/ and diffs/, whatever their depth. Anything else in the folder is left alone.
 */
async function takeOver(dir: string, force: boolean, own: readonly string[]): Promise<void> {
  const manifest = path.join(dir, MANIFEST);
  const info = await lstat(manifest).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw outputError(dir, error, `read ${MANIFEST}`);
  });
  if (info !== undefined && !info.isFile()) {
    throw new ReplayError(
      "OUTPUT",
      `${manifest} is ${kindOf(info)}, not a file: this replay's manifest could not be written there.`,
      { hint: "Remove it, or choose another folder with --out.", details: { path: manifest } },
    );
  }
  let entries: string[];
  try {
    // The lock, and another process's lock being made (pid-lock-file.ts) are not contents.
    entries = (await readdir(dir))
      .filter((name) => !name.startsWith(LOCK_FILE) && !own.includes(name))
      .sort();
  } catch (error) {
    throw outputError(dir, error, "list the files");
  }
  if (entries.length === 0) return;
  if (!force) {
    const previous = info === undefined ? undefined : await previousReplayId(manifest);
    const what =
      info === undefined
        ? `is not empty: it holds ${entries.length} entr${entries.length === 1 ? "y" : "ies"} (${entries
            .slice(0, 3)
            .map((e) => JSON.stringify(e))
            .join(", ")}${entries.length > 3 ? ", ..." : ""})`
        : `already holds ${previous === undefined ? "a replay" : `replay ${previous}`}: its manifest is ${manifest}`;
    throw new ReplayError("OUTPUT", `The output folder ${dir} ${what}.`, {
      hint: "Choose a new or empty folder with --out, or add --force to replace the replay there (its manifest.json, artifacts/ and diffs/ are removed first; nothing else is touched).",
      details: { path: dir, manifest: info === undefined ? null : manifest },
    });
  }
  const ours = entries.filter((name) => name === MANIFEST || name.startsWith(`${MANIFEST}.tmp-`));
  try {
    for (const name of ours) await rm(path.join(dir, name), { force: true });
    for (const name of ["artifacts", "diffs"]) await removeTree(path.join(dir, name));
  } catch (error) {
    throw outputError(dir, error, "remove the previous replay's files");
  }
}

export class OutDir {
  private constructor(
    readonly dir: string,
    private readonly lock: PidLock,
  ) {}

  /**
   * Creates the folder when needed and locks it. A folder that is not empty (another replay's
   * manifest, anything else) is refused unless `options.force`; see takeOver.
   */
  static async acquire(dir: string, replayId: string, options: OutDirOptions = {}): Promise<OutDir> {
    const abs = path.resolve(dir);
    await makeFolders(abs, OUT_FOLDER);
    let lock: PidLock;
    try {
      lock = await acquirePidLock(
        path.join(abs, LOCK_FILE),
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
    try {
      await takeOver(abs, options.force === true, options.ownEntries ?? []);
      await makeFolders(path.join(abs, "artifacts"), OUT_FOLDER);
    } catch (error) {
      await lock.release();
      throw error;
    }
    return new OutDir(abs, lock);
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

  /**
   * Claims a new name for `id` in `folder` by creating it exclusively: a name this replay has
   * already given out is never handed out (or overwritten) again, even where the file system
   * folds case or names collide some other way. The id's hashed name is the fallback.
   */
  private async claim(folder: string, id: string, suffix: string): Promise<string> {
    for (const name of new Set([safeFileName(id), hashedFileName(id)])) {
      const file = path.join(this.dir, folder, `${name}${suffix}`);
      try {
        await (await open(file, "wx")).close();
        return file;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw outputError(this.dir, error, "write");
      }
    }
    throw new ReplayError("INTERNAL", `Two files of this replay claim the name of ${JSON.stringify(id)}.`, {
      details: { folder, id },
    });
  }

  /** Moves a step's finished output to a name of its own under artifacts/, and returns it. */
  async promote(partial: string, artifactId: string): Promise<string> {
    const dest = await this.claim("artifacts", artifactId, "");
    try {
      await rename(partial, dest);
    } catch (error) {
      await removeQuietly(dest);
      throw outputError(this.dir, error, `write artifacts/${path.basename(dest)}`);
    }
    return dest;
  }

  /**
   * Links (or, where a link is refused, copies) a whole file made elsewhere (a queued batch's
   * store) into artifacts/ or diffs/ under a name of its own; returns it.
   */
  async adopt(file: string, folder: "artifacts" | "diffs", id: string, suffix: string): Promise<string> {
    await makeFolders(path.join(this.dir, folder), OUT_FOLDER);
    const dest = await this.claim(folder, id, suffix);
    try {
      await rm(dest);
      await link(file, dest);
    } catch {
      try {
        await copyFile(file, dest);
      } catch (error) {
        await removeQuietly(dest);
        throw outputError(this.dir, error, `write ${folder}/${path.basename(dest)}`);
      }
    }
    return dest;
  }

  /** Writes a step's diff report (`suffix`: ".txt", ".html", ...) to a name of its own under diffs/. */
  async writeDiff(stepId: string, suffix: string, text: string): Promise<string> {
    await makeFolders(path.join(this.dir, "diffs"), OUT_FOLDER);
    const dest = await this.claim("diffs", stepId, suffix);
    try {
      await this.atomicWrite(dest, text);
    } catch (error) {
      await removeQuietly(dest);
      throw error;
    }
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
