/**
 * removeTree: any depth (far past PATH_MAX), any width, symbolic links removed and never
 * followed, folders without permissions, and a clear error for what cannot be removed.
 */
import { execFileSync } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TreeRemovalError, removeTree } from "../../src/fs/index.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "rr-remove-tree-"));
});

afterEach(() => {
  // GNU rm descends with openat(): whatever a failed case left, however deep.
  execFileSync("rm", ["-rf", "--", dir]);
});

/**
 * `depth` nested folders named `name` under `root`, built bottom-up with short paths (the
 * innermost folder is made first and moved down one level at a time), a file every 500 levels.
 */
async function deepTree(root: string, depth: number, name: string): Promise<void> {
  const spare = `${root}.up`;
  await mkdir(root);
  for (let i = 0; i < depth; i++) {
    await mkdir(spare);
    if (i % 500 === 0) await writeFile(path.join(root, `file-${i}`), "x");
    await rename(root, path.join(spare, name));
    await rename(spare, root);
  }
}

function depthOf(root: string, name: string): number {
  // Counted by a child process that descends with relative chdir() calls.
  const count =
    "import os,sys\nos.chdir(sys.argv[1])\nn=0\nwhile os.path.isdir(sys.argv[2]):\n os.chdir(sys.argv[2]); n+=1\nprint(n)";
  return Number(execFileSync("python3", ["-c", count, root, name], { encoding: "utf8" }).trim());
}

describe("removeTree", () => {
  it("removes a tree 5000 folders deep (250 000 bytes of path), which fs.rm cannot", async () => {
    const root = path.join(dir, "deep");
    const name = "d".repeat(49);
    await deepTree(root, 5000, name);
    expect(depthOf(root, name)).toBe(5000);
    await expect(rm(root, { recursive: true, force: true })).rejects.toMatchObject({ code: "ENAMETOOLONG" });
    await removeTree(root);
    expect(await readdir(dir)).toEqual([]);
  }, 120_000);

  it("removes wide folders, links without following them, and folders without permissions", async () => {
    const root = path.join(dir, "tree");
    const outside = path.join(dir, "outside");
    await mkdir(outside);
    await writeFile(path.join(outside, "keep"), "kept");
    await mkdir(path.join(root, "a", "b", "c"), { recursive: true });
    for (let i = 0; i < 2000; i++) await writeFile(path.join(root, "a", `f${i}`), "");
    await symlink(outside, path.join(root, "a", "b", "to-outside"));
    await symlink(path.join(outside, "keep"), path.join(root, "link-to-file"));
    await symlink(path.join(dir, "nowhere"), path.join(root, "dangling"));
    await mkdir(path.join(root, "locked", "inner"), { recursive: true });
    await writeFile(path.join(root, "locked", "inner", "f"), "x");
    await chmod(path.join(root, "locked", "inner"), 0);
    await chmod(path.join(root, "locked"), 0);
    await removeTree(root);
    expect(await readdir(dir)).toEqual(["outside"]);
    expect(await readdir(outside)).toEqual(["keep"]);
  });

  it("removes a file or a symbolic link given as the root, and accepts one that is missing", async () => {
    await writeFile(path.join(dir, "file"), "x");
    await symlink(dir, path.join(dir, "link"));
    await removeTree(path.join(dir, "file"));
    await removeTree(path.join(dir, "link"));
    await removeTree(path.join(dir, "missing"));
    expect(await readdir(dir)).toEqual([]);
    expect((await lstat(dir)).isDirectory()).toBe(true);
  });

  it("names what it cannot remove: a mount point inside the tree", async () => {
    const root = path.join(dir, "mounted");
    const point = path.join(root, "sub", "point");
    await mkdir(point, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", point]);
    try {
      const error = await removeTree(root).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TreeRemovalError);
      expect((error as TreeRemovalError).message).toMatch(new RegExp(`^cannot remove ${root}: E(BUSY|XDEV)`));
    } finally {
      execFileSync("umount", [point]);
    }
    await removeTree(root);
    expect(await readdir(dir)).toEqual([]);
  });
});
