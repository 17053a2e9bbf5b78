/**
 * A queued batch's replay store, inside the batch's folder (`verify --queue --out DIR`), which
 * every worker must reach at the same path (as the blob store):
 *
 *   DIR/store/sha256/<hex>            replayed outputs, content-addressed: downstream steps on
 *                                     any worker read their inputs here
 *   DIR/store/diffs/<step>/<file>     a mismatching step's --diff reports
 *   DIR/work/<worker>-<random>/       one job's scratch (a worker's own OutDir), removed after
 *
 * Writes are renames within the folder's filesystem, so a reader sees a whole file or none.
 * The finalizer links the store's files into the layout of an in-process batch (artifacts/,
 * diffs/, targets/, batch.json), then removes store/ and work/.
 */
import { randomBytes } from "node:crypto";
import { copyFile, lstat, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { makeFolders, removeTree } from "../fs/index.js";
import { hashedFileName, type ManifestStep } from "../replay/index.js";

const FOLDER = {
  what: "the batch's replay store",
  hint: "Give verify --queue an --out every worker can write.",
};

export function storedPayloadPath(batchDir: string, contentHash: string): string {
  return path.join(batchDir, "store", "sha256", contentHash.replace(/^sha256:/, ""));
}

export function workFolder(batchDir: string, ownerId: string): string {
  return path.join(batchDir, "work", `${hashedFileName(ownerId)}-${randomBytes(4).toString("hex")}`);
}

/** Moves (or, across filesystems, copies) a file to `dest` without ever showing a partial one. */
async function place(file: string, dest: string, move: boolean): Promise<void> {
  await makeFolders(path.dirname(dest), FOLDER);
  if (move) {
    try {
      await rename(file, dest);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    }
  }
  const tmp = `${dest}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    await copyFile(file, tmp);
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Puts a step's replayed output in the store (unless it is already there under its hash) and
 * its diff reports beside; returns the row with the diff files' paths in the store.
 */
export async function storeStepOutput(
  batchDir: string,
  scratchDir: string,
  row: ManifestStep,
  output: { file: string; contentHash: string } | null,
): Promise<ManifestStep> {
  if (output !== null) {
    const dest = storedPayloadPath(batchDir, output.contentHash);
    const present = await lstat(dest).then(
      () => true,
      () => false,
    );
    // Content-addressed: the same hash is the same bytes. A scratch file moves; any other
    // (an ingest step's blob) is copied, since it is the blob store's.
    if (!present) await place(output.file, dest, output.file.startsWith(scratchDir + path.sep));
  }
  if (row.diff === null) return row;
  const folder = path.posix.join("store", "diffs", hashedFileName(row.step_id));
  const moved = structuredClone(row);
  const relocate = async (file: string | null): Promise<string | null> => {
    if (file === null || file === "") return file;
    const dest = path.posix.join(folder, path.posix.basename(file));
    await place(path.join(scratchDir, file), path.join(batchDir, dest), true);
    return dest;
  };
  const diff = moved.diff;
  if (diff !== null) {
    diff.files = {
      text: (await relocate(diff.files.text)) ?? "",
      html: await relocate(diff.files.html),
      json: await relocate(diff.files.json),
    };
  }
  return moved;
}

/** Everything a finalized batch no longer needs: the store (linked out) and dead workers' scratch. */
export async function removeStore(batchDir: string): Promise<void> {
  // Trees of any depth: a hostile step may have left one in its scratch /out.
  for (const name of ["store", "work"]) await removeTree(path.join(batchDir, name));
}

/** The batch folder's outputs of an earlier, unfinished finalize attempt (retried after a crash). */
export async function removeFinalOutputs(batchDir: string): Promise<void> {
  for (const name of ["artifacts", "diffs", "targets", "batch.json"])
    await removeTree(path.join(batchDir, name));
  await readdir(batchDir); // the folder itself must still be there
}
