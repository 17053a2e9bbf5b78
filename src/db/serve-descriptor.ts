/**
 * `<data dir>.serve.json` (by default `$REPLAY_HOME/registry.serve.json`): written by a
 * `replay-runner serve` that holds the embedded registry, so other commands find the socket it
 * shares the registry on instead of failing on its lock. Beside the lock file `<data dir>.lock`.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { z } from "zod";
import { pidAlive } from "../locks/index.js";

/** The label `serve` writes into the embedded registry's lock file (commands wait for its descriptor). */
export const SERVE_LOCK_LABEL = "replay-runner serve";

const descriptorSchema = z.object({
  pid: z.number().int().positive(),
  data_dir: z.string(),
  /** null: serve could not share the registry; `unshared` says why. */
  socket: z.string().nullable(),
  unshared: z.string().nullable().default(null),
  wire_version: z.number().int(),
  started_at: z.string(),
});
export type ServeDescriptor = z.infer<typeof descriptorSchema>;

export function descriptorPath(dataDir: string): string {
  return `${dataDir}.serve.json`;
}

export function lockPath(dataDir: string): string {
  return `${dataDir}.lock`;
}

/** Written whole or not at all (temporary file, then rename). */
export async function writeServeDescriptor(dataDir: string, descriptor: ServeDescriptor): Promise<void> {
  const file = descriptorPath(dataDir);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const handle = await open(tmp, "wx", 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(descriptor, null, 2)}\n`);
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The descriptor of a live serve for this data folder; null when absent, unreadable or stale. */
export async function readServeDescriptor(dataDir: string): Promise<ServeDescriptor | null> {
  const text = await readFile(descriptorPath(dataDir), "utf8").catch(() => null);
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = descriptorSchema.safeParse(raw);
  if (!parsed.success || !pidAlive(parsed.data.pid)) return null;
  return parsed.data;
}

/** Removes the descriptor if it is this process's (a newer serve may have replaced it). */
export async function removeServeDescriptor(dataDir: string): Promise<void> {
  const text = await readFile(descriptorPath(dataDir), "utf8").catch(() => null);
  if (text === null) return;
  try {
    if ((JSON.parse(text) as { pid?: unknown }).pid !== process.pid) return;
  } catch {
    // unreadable: ours was written whole, so this is not ours either way
    return;
  }
  await rm(descriptorPath(dataDir), { force: true });
}
