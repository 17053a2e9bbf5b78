/**
 * makeFolders: `mkdir -p` that ends. Node's recursive mkdir spins forever under /proc (the file
 * system answers ENOENT for a folder whose parent exists); here that is an error at once.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReplayError } from "../../src/errors/index.js";
import { type FolderPurpose, makeFolders } from "../../src/fs/index.js";

const PURPOSE = { what: "the test folder", hint: "Choose another one." };

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "rr-make-folders-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failureOf(target: string, purpose: FolderPurpose = PURPOSE): Promise<ReplayError> {
  const error = await makeFolders(target, purpose).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ReplayError)) throw new Error(`expected a ReplayError, got ${String(error)}`);
  return error;
}

describe("makeFolders", () => {
  it("creates missing parents with the mode given, and accepts what exists", async () => {
    const target = path.join(dir, "a", "b", "c");
    await makeFolders(target, PURPOSE, 0o700);
    await makeFolders(target, PURPOSE);
    expect((await stat(path.join(dir, "a"))).mode & 0o777).toBe(0o700);
    expect(await readdir(path.join(dir, "a", "b"))).toEqual(["c"]);
    await mkdir(path.join(dir, "real"));
    await symlink(path.join(dir, "real"), path.join(dir, "link"));
    await makeFolders(path.join(dir, "link", "inside"), PURPOSE);
    expect(await readdir(path.join(dir, "real"))).toEqual(["inside"]);
  });

  it("fails at once under /proc, naming the folder (Node's recursive mkdir never returns)", async () => {
    const started = Date.now();
    const error = await failureOf("/proc/rr-no-such/out");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.code).toBe("OUTPUT");
    expect(error.message).toBe(
      "Cannot create the test folder /proc/rr-no-such/out: the file system refuses to create /proc/rr-no-such (ENOENT).",
    );
    expect(error.hint).toBe("Choose another one.");
  });

  it("names a file in the way, and a dangling symbolic link with its target", async () => {
    await writeFile(path.join(dir, "file"), "x");
    expect((await failureOf(path.join(dir, "file", "sub"))).message).toBe(
      `Cannot create the test folder ${path.join(dir, "file", "sub")}: ${path.join(dir, "file")} is a file, not a folder.`,
    );
    await symlink("/nonexistent/rr-target", path.join(dir, "dangling"));
    const dangling = await failureOf(path.join(dir, "dangling"), { ...PURPOSE, notAFolderCode: "USAGE" });
    expect(dangling.code).toBe("USAGE");
    expect(dangling.message).toBe(
      `Cannot create the test folder ${path.join(dir, "dangling")}: ${path.join(dir, "dangling")} is a symbolic link to /nonexistent/rr-target, which does not exist.`,
    );
  });

  it("says why the file system refused", async () => {
    const target = path.join(dir, "ro", "sub");
    await mkdir(path.join(dir, "ro"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", path.join(dir, "ro")]);
    try {
      expect((await failureOf(target)).message).toBe(
        `Cannot create the test folder ${target}: ${target}: the file system is read-only (EROFS).`,
      );
    } finally {
      execFileSync("umount", [path.join(dir, "ro")]);
    }
  });
});
