/**
 * `mkdir -p` that always ends: every folder replay-runner creates on a path a user gave
 * (--out, REPLAY_HOME, REPLAY_BLOBS, staging, the embedded registry) goes through here.
 *
 * Node's own `mkdir(..., { recursive: true })` retries forever where a file system answers
 * ENOENT for a folder whose parent exists (/proc, some FUSE mounts): the process spins at full
 * CPU and cannot even be interrupted. Here each missing folder is created once, parents first,
 * and the first refusal is an error that names the folder and why.
 */
import { lstat, mkdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { ReplayError, type ReplayErrorCode, messageOf } from "../errors/index.js";

/** What the folder is for, in the words of the error a user gets when it cannot be made. */
export interface FolderPurpose {
  /** e.g. "the output folder": "Cannot create the output folder /x: ...". */
  what: string;
  /** What to do about it. */
  hint: string;
  /** Default OUTPUT (exit 6). */
  code?: ReplayErrorCode;
  /** When a file (or a dangling link) sits where a folder should be; default `code`. */
  notAFolderCode?: ReplayErrorCode;
}

const WHY: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  ENAMETOOLONG: "the path is too long",
  ELOOP: "too many levels of symbolic links",
};

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function failure(dir: string, purpose: FolderPurpose, reason: string, cause?: unknown): ReplayError {
  return new ReplayError(purpose.code ?? "OUTPUT", `Cannot create ${purpose.what} ${dir}: ${reason}.`, {
    hint: purpose.hint,
    details: { path: dir },
    cause,
  });
}

function notAFolderFailure(dir: string, purpose: FolderPurpose, reason: string): ReplayError {
  const code = purpose.notAFolderCode ?? purpose.code;
  return failure(dir, code === undefined ? purpose : { ...purpose, code }, reason);
}

function reasonOf(folder: string, error: unknown): string {
  const code = errnoOf(error);
  // ENOENT although the parent exists: the file system does not allow new folders there.
  if (code === "ENOENT") return `the file system refuses to create ${folder} (ENOENT)`;
  const why = code === undefined ? undefined : WHY[code];
  return why === undefined ? `${folder}: ${messageOf(error)}` : `${folder}: ${why} (${code ?? ""})`;
}

/** Why an existing `entry` is not a folder one can create folders in. */
async function notAFolder(entry: string): Promise<string> {
  const info = await lstat(entry).catch(() => undefined);
  if (info?.isSymbolicLink() === true) {
    const target = await readlink(entry).catch(() => "?");
    const resolved = await stat(entry).catch(() => undefined);
    return resolved === undefined
      ? `${entry} is a symbolic link to ${target}, which does not exist`
      : `${entry} is a symbolic link to ${target}, which is not a folder`;
  }
  return `${entry} is a file, not a folder`;
}

/**
 * Creates `dir` and any missing parents (`mode` for each one created), or throws a ReplayError
 * naming the first one that cannot be had. An existing folder (or a symbolic link to one) is fine.
 */
export async function makeFolders(dir: string, purpose: FolderPurpose, mode?: number): Promise<void> {
  const target = path.resolve(dir);
  // Walk up to the nearest entry that exists; everything below it is to be created.
  const missing: string[] = [];
  for (let current = target; ;) {
    let info;
    try {
      info = await stat(current);
    } catch (error) {
      const code = errnoOf(error);
      if (code === "ENOENT" || code === "ENOTDIR") {
        // A dangling symbolic link exists without a target: name it rather than "no such file".
        const link = await lstat(current).catch(() => undefined);
        if (link !== undefined) {
          // Or made by another process between the two calls: a folder now is fine.
          if ((await stat(current).catch(() => undefined))?.isDirectory() === true) break;
          throw notAFolderFailure(target, purpose, await notAFolder(current));
        }
        missing.push(current);
        const parent = path.dirname(current);
        if (parent === current) throw failure(target, purpose, reasonOf(current, error), error);
        current = parent;
        continue;
      }
      throw failure(target, purpose, reasonOf(current, error), error);
    }
    if (!info.isDirectory()) throw notAFolderFailure(target, purpose, await notAFolder(current));
    break;
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder, mode === undefined ? undefined : { mode });
    } catch (error) {
      // Made meanwhile by someone else: fine when it is a folder.
      if (errnoOf(error) === "EEXIST") {
        const info = await stat(folder).catch(() => undefined);
        if (info?.isDirectory() === true) continue;
        throw notAFolderFailure(target, purpose, await notAFolder(folder));
      }
      throw failure(target, purpose, reasonOf(folder, error), error);
    }
  }
}
