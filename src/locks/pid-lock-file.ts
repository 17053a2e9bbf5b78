/**
 * An exclusive lock held as a file with the holder's pid in it. A lock whose holder process
 * is gone (crash, SIGKILL) is taken over, so a crash never blocks the next run.
 */
import { randomBytes } from "node:crypto";
import { link, open, readFile, rm, writeFile } from "node:fs/promises";

/** True when a process with this pid exists on this host (EPERM: it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface LockHolder {
  pid: number;
  /** What the holder wrote after its pid (e.g. a replay id). */
  label: string;
}

export interface PidLock {
  release(): Promise<void>;
}

/** Who holds the lock `file` now; null when it is free or its holder process is gone. */
export async function liveLockHolder(file: string): Promise<LockHolder | null> {
  const text = await readFile(file, "utf8").catch(() => null);
  if (text === null) return null;
  const [pidText = "", ...rest] = text.trim().split(" ");
  const holder = { pid: Number(pidText), label: rest.join(" ") };
  return pidAlive(holder.pid) ? holder : null;
}

/**
 * Creates `file` with `<pid> <label>` in it, in one step: the content is written to a private
 * temporary file first and hard-linked to `file` (link fails when `file` exists), so no one
 * ever reads a lock that exists but is still empty and takes it for a dead process's. Where
 * hard links are refused, the file is created exclusively and then written.
 */
async function createLock(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString("hex")}.new`;
  await writeFile(tmp, content, { flag: "wx" });
  try {
    await link(tmp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw error;
    const handle = await open(file, "wx");
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Creates `file` exclusively with `<pid> <label>`. When a live process holds it, `whenHeld`
 * builds the error to throw; other file-system errors are passed to `onError`.
 */
export async function acquirePidLock(
  file: string,
  label: string,
  whenHeld: (holder: LockHolder) => Error,
): Promise<PidLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await createLock(file, `${process.pid} ${label}\n`);
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const [pidText = "", ...rest] = (await readFile(file, "utf8").catch(() => "")).trim().split(" ");
      const holder = { pid: Number(pidText), label: rest.join(" ") };
      if (holder.pid !== process.pid && pidAlive(holder.pid)) throw whenHeld(holder);
      await rm(file, { force: true }); // left by a process that died
    }
  }
  throw whenHeld({ pid: 0, label: "another process (the lock file keeps coming back)" });
}
