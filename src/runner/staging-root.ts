/**
 * The host folder under which a process stages its steps' /in, /code and /out (host mounts,
 * see host-transport.ts): `<base>/<random>/`, with `<base>/<random>.owner` saying which process
 * on which host owns it. The folder's name is random on purpose: a step sees the path of its
 * bind mounts in /proc/self/mountinfo, and should learn neither the host's name nor a pid.
 * What a crashed process left is removed by `reapStaleStaging` (the next replay, `gc`).
 */
import { randomBytes } from "node:crypto";
import { statfsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { messageOf } from "../errors/index.js";
import { makeFolders, removeTree } from "../fs/index.js";
import { pidAlive } from "../locks/index.js";

const OWNER_SUFFIX = ".owner";
const TMPFS_MAGIC = 0x01021994;

/**
 * A folder on the host's tmpfs (/dev/shm) for staging /in in a chosen order (triage's "order"
 * variation, host-transport.ts): a tmpfs lists entries by creation order, ext4 by name hash.
 * One per user; undefined when /dev/shm is not a tmpfs.
 */
export function tmpfsStagingBase(shm = "/dev/shm"): string | undefined {
  try {
    if (statfsSync(shm).type !== TMPFS_MAGIC) return undefined;
  } catch {
    return undefined;
  }
  return path.join(shm, `replay-runner-${process.getuid?.() ?? "user"}`);
}

export class StagingRoot {
  readonly base: string;
  private own: Promise<string> | undefined;

  constructor(base: string) {
    this.base = path.resolve(base);
  }

  /** Creates this process's folder now: a REPLAY_HOME where it cannot be made fails here, once. */
  async prepare(): Promise<void> {
    this.own ??= this.create();
    await this.own;
  }

  /** A fresh, empty folder for one step (0700: no other host user can reach what it holds). */
  async stepFolder(): Promise<string> {
    this.own ??= this.create();
    return mkdtemp(path.join(await this.own, "s-"));
  }

  private async create(): Promise<string> {
    await makeFolders(
      this.base,
      {
        what: "the staging folder",
        hint: "Set REPLAY_HOME (or --home) to a folder you can write, or REPLAY_HOST_MOUNTS=off.",
      },
      0o700,
    );
    const dir = path.join(this.base, randomBytes(8).toString("hex"));
    // The owner file first: a folder is never left without one to say whose it is.
    await writeFile(`${dir}${OWNER_SUFFIX}`, `${process.pid} ${os.hostname()}\n`, { flag: "wx" });
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  /**
   * Removes this process's folder (steps remove their own subfolders as they end). Never throws:
   * returns what could not be removed, for a warning. Its owner file then stays, so that `gc` or
   * the next replay removes the rest once this process is gone.
   */
  async dispose(): Promise<string | undefined> {
    const own = this.own;
    this.own = undefined;
    if (own === undefined) return undefined;
    const dir = await own.catch(() => undefined);
    if (dir === undefined) return undefined;
    try {
      await removeTree(dir);
      await rm(`${dir}${OWNER_SUFFIX}`, { force: true });
      return undefined;
    } catch (error) {
      return `staged files were left in ${dir} (replay-runner gc removes them): ${messageOf(error)}`;
    }
  }
}

/**
 * Removes the folders of processes of this host that are gone, and returns their paths.
 * Another host's folders (REPLAY_HOME on shared storage) are never touched.
 */
export async function reapStaleStaging(
  base: string,
  alive: (pid: number) => boolean = pidAlive,
  /** Told about a folder that could not be removed (it is tried again next time). */
  failed: (dir: string, reason: string) => void = () => undefined,
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(base);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const host = os.hostname();
  const reaped: string[] = [];
  for (const name of names.filter((n) => n.endsWith(OWNER_SUFFIX))) {
    const ownerFile = path.join(base, name);
    const [pidText = "", owner = ""] = (await readFile(ownerFile, "utf8").catch(() => "")).trim().split(" ");
    const pid = Number(pidText);
    if (owner !== host || pid === process.pid || alive(pid)) continue;
    const dir = ownerFile.slice(0, -OWNER_SUFFIX.length);
    try {
      await removeTree(dir);
      await rm(ownerFile, { force: true });
      reaped.push(dir);
    } catch (error) {
      // Another process reaping the same folder, or a step's leftovers that resist: next time.
      failed(dir, messageOf(error));
    }
  }
  return reaped;
}
