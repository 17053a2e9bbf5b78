/**
 * Files in and out through bind mounts of a host folder (see step-transport.ts), for an engine
 * on this host. The view is the archive transport's: /in and /code hold 0444 files with the
 * step's SOURCE_DATE_EPOCH as mtime (copies: a shared inode's mtime would race between steps),
 * and are mounted read-only; /out is an empty folder owned by the step's user. The exception is
 * an input of LINK_FROM_BYTES or more, hard-linked rather than copied (see there).
 *
 * /out is bind-mounted only when this process is root: only root can always remove what a step
 * leaves there (a subfolder the step made 0700 would defeat anyone else). Otherwise /out stays
 * a volume and its output is read through the archive endpoint.
 */
import { constants, createWriteStream } from "node:fs";
import {
  chmod,
  chown,
  copyFile,
  link,
  lstat,
  mkdir,
  mkdtemp,
  open,
  opendir,
  readlink,
  rename,
  rm,
  stat,
  utimes,
} from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { removeTree } from "../fs/index.js";
import { hashOpenFile } from "../hashing/index.js";
import { NO_OUTPUT, takeOutputArchive } from "./archive-transport.js";
import type { DockerEngine } from "./engine-port.js";
import { OutputRuleError, writeHashed, type ExtractOptions } from "./output-file.js";
import type { StagingRoot } from "./staging-root.js";
import type { BindMount, StepTransport } from "./step-transport.js";
import type { PayloadSource } from "./types.js";

/** The step's user and group (container-spec.ts STEP_USER). */
const STEP_UID = 65534;
const STEP_GID = 65534;

export interface HostTransportOptions {
  /** Bind-mount /out too (root only, see above). */
  bindOut: boolean;
  /**
   * A tmpfs-backed root (its listing follows creation order): /in is staged there so that it
   * lists its entries in the reverse of the order the normal staging gives (triage's "order").
   */
  reversedListing?: StagingRoot | undefined;
}

/**
 * From this size on, an input that is a host file (a verified blob, a replayed output) is hard-
 * linked into the folder instead of copied, when both are on one filesystem: a 50 GiB input must
 * not cost 50 GiB of writes and free space per step. The step then sees that file's own mode and
 * mtime (and a link count of 2), not 0444 and SOURCE_DATE_EPOCH (docs/decisions.md).
 */
export const LINK_FROM_BYTES = 64 * 2 ** 20;

async function stageFile(dir: string, source: PayloadSource, mtime: number): Promise<void> {
  const dest = path.join(dir, source.name);
  // Any refusal to link (another filesystem, a blob store owned by someone else under
  // fs.protected_hardlinks, a filesystem without links) just means a copy.
  const linked =
    source.file !== undefined &&
    source.size >= LINK_FROM_BYTES &&
    (await link(source.file, dest).then(
      () => true,
      () => false,
    ));
  if (linked) {
    const staged = await stat(dest);
    if (staged.size !== source.size) {
      throw new Error(`${source.name} is ${staged.size} bytes on disk, ${source.size} expected`);
    }
    return;
  }
  if (source.file !== undefined) {
    // copy_file_range: the kernel copies, no bytes pass through this process.
    await copyFile(source.file, dest, constants.COPYFILE_EXCL);
  } else {
    await pipeline(source.open(), createWriteStream(dest, { flags: "wx" }));
  }
  const staged = await stat(dest);
  if (staged.size !== source.size) {
    throw new Error(
      `${source.name} changed while it was staged: ${staged.size} bytes instead of ${source.size}`,
    );
  }
  await chmod(dest, 0o444);
  await utimes(dest, mtime, mtime);
}

async function makeFolder(dir: string): Promise<void> {
  await mkdir(dir);
  await chmod(dir, 0o755); // whatever the umask: the step (another user) must list it
}

/** Fills a folder made by makeFolder; its own mtime last, after its entries changed it. */
async function stageFiles(dir: string, files: PayloadSource[], mtime: number): Promise<void> {
  await Promise.all(files.map((f) => stageFile(dir, f, mtime)));
  await utimes(dir, mtime, mtime);
}

/** The directory's entries in the order the kernel lists them (fs.readdir sorts; opendir does not). */
async function listingOf(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of await opendir(dir)) names.push(entry.name);
  return names;
}

async function createEmpty(dir: string, names: readonly string[]): Promise<void> {
  // One after another: the creation order is what the listing follows.
  for (const name of names) await (await open(path.join(dir, name), "wx")).close();
}

/**
 * Stages /in so that it lists the reverse of what the normal staging lists. On ext4 a listing is
 * in name-hash order (the same names always list alike); on tmpfs it follows creation order (in
 * one direction or the other, by kernel version). So: learn the normal order from empty files in
 * a probe folder beside the normal staging, then create the entries on tmpfs in whichever order
 * lists as its reverse, and only then fill them (an overwrite keeps the directory entry).
 */
async function stageReversed(
  dir: string,
  probeParent: string,
  files: PayloadSource[],
  mtime: number,
): Promise<void> {
  const names = files.map((f) => f.name).sort();
  const probe = await mkdtemp(path.join(probeParent, "probe-"));
  let normal: string[];
  try {
    await createEmpty(probe, names);
    normal = await listingOf(probe);
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
  const wanted = [...normal].reverse();
  let listed: string[] = [];
  for (const order of [wanted, normal]) {
    await createEmpty(dir, order);
    listed = await listingOf(dir);
    if (listed.join("/") === wanted.join("/")) break;
    await Promise.all(names.map((n) => rm(path.join(dir, n))));
  }
  if (listed.join("/") !== wanted.join("/"))
    throw new Error(
      `this filesystem does not list /in in an order that can be chosen (${listed.join(", ")})`,
    );
  for (const f of files) {
    const dest = path.join(dir, f.name);
    if (f.file !== undefined) await copyFile(f.file, dest);
    else await pipeline(f.open(), createWriteStream(dest, { flags: "r+" }));
    const staged = await stat(dest);
    if (staged.size !== f.size) throw new Error(`${f.name} changed while it was staged`);
    await chmod(dest, 0o444);
    await utimes(dest, mtime, mtime);
  }
  await utimes(dir, mtime, mtime);
}

function kindOf(entry: Awaited<ReturnType<typeof lstat>>): string {
  if (entry.isDirectory()) return "a directory";
  if (entry.isFIFO()) return "a FIFO";
  if (entry.isCharacterDevice() || entry.isBlockDevice()) return "a device";
  if (entry.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Takes /out/output from the host folder once the step has exited (no process of it is left to
 * change it): a regular file within the limit is moved into place, made ours and read-only to
 * others, and hashed; anything else is refused in the archive transport's words.
 */
async function takeOutputFile(
  outDir: string,
  options: ExtractOptions,
): Promise<{ contentHash: string; size: number }> {
  const source = path.join(outDir, "output");
  let entry;
  try {
    entry = await lstat(source);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new OutputRuleError(NO_OUTPUT);
    throw error;
  }
  if (entry.isSymbolicLink()) {
    const target = await readlink(source).catch(() => "?");
    throw new OutputRuleError(
      `/out/output is a symbolic link to ${JSON.stringify(target)}, not a regular file`,
    );
  }
  if (!entry.isFile()) throw new OutputRuleError(`/out/output is ${kindOf(entry)}, not a regular file`);
  if (entry.size > options.maxOutputBytes) {
    throw new OutputRuleError(
      `/out/output is ${entry.size} bytes, over the limit of ${options.maxOutputBytes} bytes`,
    );
  }
  let moved = true;
  try {
    await rename(source, options.outputFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    moved = false;
  }
  // O_NOFOLLOW and fstat on the open file: what is hashed is what was checked.
  const handle = await open(
    moved ? options.outputFile : source,
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  );
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw new OutputRuleError("/out/output is not a regular file");
    if (!moved)
      return await writeHashed(
        handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false }),
        options,
      );
    await handle.chown(process.getuid?.() ?? opened.uid, process.getgid?.() ?? opened.gid);
    await handle.chmod(0o644);
    return await hashOpenFile(handle, options.signal);
  } catch (error) {
    if (moved) await rm(options.outputFile, { force: true });
    throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Stages the script and makes the empty folders now; the inputs are copied in by fill(), once
 * they are known (the container is created in between: it only needs the folders to exist).
 */
export async function hostTransport(
  root: StagingRoot,
  code: PayloadSource,
  mtime: number,
  options: HostTransportOptions,
): Promise<StepTransport> {
  const folder = await root.stepFolder();
  // Whatever the step left in /out, however deep (removeTree says why fs.rm is not enough).
  let listingFolder: string | undefined;
  const dispose = async () => {
    await removeTree(folder);
    if (listingFolder !== undefined) await removeTree(listingFolder);
  };
  try {
    if (options.reversedListing !== undefined) listingFolder = await options.reversedListing.stepFolder();
    const inDir = path.join(listingFolder ?? folder, "in");
    const codeDir = path.join(folder, "code");
    const outDir = path.join(folder, "out");
    await Promise.all([makeFolder(inDir), makeFolder(codeDir)]);
    await stageFiles(codeDir, [code], mtime);
    const binds: BindMount[] = [
      { source: inDir, target: "/in", readOnly: true },
      { source: codeDir, target: "/code", readOnly: true },
    ];
    if (options.bindOut) {
      await mkdir(outDir);
      await chown(outDir, STEP_UID, STEP_GID);
      await chmod(outDir, 0o755);
      binds.push({ source: outDir, target: "/out", readOnly: false });
    }
    return {
      binds,
      prepare: () => Promise.resolve(),
      fill: (_engine: DockerEngine, _id: string, inputs: PayloadSource[]) =>
        listingFolder === undefined
          ? stageFiles(inDir, inputs, mtime)
          : stageReversed(inDir, folder, inputs, mtime),
      async takeOutput(engine: DockerEngine, id: string, extract: ExtractOptions) {
        if (options.bindOut) return takeOutputFile(outDir, extract);
        return takeOutputArchive(engine, id, extract);
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
