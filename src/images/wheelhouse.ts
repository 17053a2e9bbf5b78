/**
 * Picks the wheels a lock needs from a wheelhouse folder: those whose SHA-256 the lock pins.
 * Hash-checking mode accepts nothing else anyway, and sending only these keeps the build
 * context (and the image's copy layer) small however big the wheelhouse is.
 */
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";
import { ReplayError } from "../errors/index.js";

export interface WheelFile {
  name: string;
  path: string;
  size: number;
}

/** Every `--hash=sha256:<hex>` of a requirements file in pip's hash-checking format. */
export function pinnedSha256s(lock: string): Set<string> {
  return new Set(
    [...lock.matchAll(/--hash[=\s]+sha256:([0-9a-fA-F]{64})/g)].map((m) => (m[1] ?? "").toLowerCase()),
  );
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function wheelsForLock(wheelhouse: string, lock: string): Promise<WheelFile[]> {
  let names: string[];
  try {
    names = (await readdir(wheelhouse)).filter((n) => n.endsWith(".whl")).sort();
  } catch (error) {
    throw new ReplayError(
      "IMAGE_BUILD",
      `The wheelhouse ${wheelhouse} cannot be read: ${(error as Error).message}`,
      {
        hint: "Set REPLAY_WHEELHOUSE to a folder of .whl files, or REPLAY_PIP_INDEX_URL to a package index.",
        cause: error,
      },
    );
  }
  const wanted = pinnedSha256s(lock);
  const picked: WheelFile[] = [];
  for (const name of names) {
    const file = path.join(wheelhouse, name);
    if (wanted.has(await sha256OfFile(file)))
      picked.push({ name, path: file, size: (await stat(file)).size });
  }
  return picked;
}
