/**
 * Removes a folder and everything in it, however deep. A step can leave a tree of folders far
 * deeper than PATH_MAX (4096 bytes) in /out or anywhere it can write; `fs.rm({ recursive })`
 * (and rimraf) build each entry's full path and fail with ENAMETOOLONG there, so such a
 * leftover would stay forever. Without openat() in Node, and without process.chdir() (this is a
 * library: the working directory belongs to the process), paths are kept short instead: every
 * subfolder found below the first level is first moved into one flat folder directly under
 * the root, then emptied there. No path handled here is longer than the root's own plus two
 * names. Symbolic links are removed, never followed.
 */
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, opendir, rename, rmdir, unlink } from "node:fs/promises";
import path from "node:path";
import { messageOf } from "../errors/index.js";

export class TreeRemovalError extends Error {
  constructor(
    readonly root: string,
    readonly entry: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot remove ${root}: ${reason}`, options);
    this.name = "TreeRemovalError";
  }
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function isGone(error: unknown): boolean {
  // Removed meanwhile (another process reaping the same folder): nothing left to do.
  return codeOf(error) === "ENOENT";
}

function isDenied(error: unknown): boolean {
  const code = codeOf(error);
  return code === "EACCES" || code === "EPERM";
}

/** Runs `work`; when it is refused, makes `dir` ours to change (0700) and tries once more. */
async function withAccess<T>(dir: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isDenied(error)) throw error;
    await chmod(dir, 0o700).catch(() => undefined);
    return work();
  }
}

/**
 * Removes `target` (a folder, a file or a symbolic link); a missing one is fine. Throws a
 * TreeRemovalError naming the entry that could not be removed (a mount point, a file system
 * that refuses, a folder of someone else's).
 */
export async function removeTree(target: string): Promise<void> {
  const root = path.resolve(target);
  let info;
  try {
    info = await lstat(root);
  } catch (error) {
    if (isGone(error)) return;
    throw new TreeRemovalError(root, root, messageOf(error), { cause: error });
  }
  if (!info.isDirectory()) {
    await unlink(root).catch((error: unknown) => {
      if (!isGone(error)) throw new TreeRemovalError(root, root, messageOf(error), { cause: error });
    });
    return;
  }
  const flat = path.join(root, `.removing-${randomBytes(6).toString("hex")}`);
  const flatName = path.basename(flat);
  let current = root;
  try {
    await withAccess(root, () => mkdir(flat, { mode: 0o700 }));
    let moved = 0;
    // Folders still to empty: the root's own subfolders in place, deeper ones moved into `flat`.
    const pending: string[] = [root];
    for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
      current = dir;
      const entries = await withAccess(dir, () => opendir(dir)).catch((error: unknown) => {
        if (isGone(error)) return undefined;
        throw error;
      });
      if (entries === undefined) continue;
      for await (const entry of entries) {
        if (dir === root && entry.name === flatName) continue;
        const child = path.join(dir, entry.name);
        current = child;
        try {
          // Node lstat()s entries whose type the file system does not report.
          if (!entry.isDirectory()) {
            await withAccess(dir, () => unlink(child));
          } else if (dir === root) {
            pending.push(child);
          } else {
            const short = path.join(flat, String(moved++));
            await withAccess(dir, () => rename(child, short));
            pending.push(short);
          }
        } catch (error) {
          if (!isGone(error)) throw error;
        }
      }
      current = dir;
      if (dir !== root) await rmdir(dir).catch(ignoreGone);
    }
    current = flat;
    await rmdir(flat).catch(ignoreGone);
    current = root;
    await rmdir(root).catch(ignoreGone);
  } catch (error) {
    if (error instanceof TreeRemovalError) throw error;
    throw new TreeRemovalError(root, current, messageOf(error), { cause: error });
  }
}

function ignoreGone(error: unknown): void {
  if (!isGone(error)) throw error;
}
