/**
 * The output folder's names and rules, without a replay: ids map to names injectively, a name
 * is never handed out twice, and a folder that holds something already is refused or, with
 * force, emptied of the previous replay before anything is written.
 */
import { mkdir, mkdtemp, readFile, readdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReplayError } from "../../src/errors/index.js";
import { sha256Hex } from "../../src/hashing/index.js";
import { OutDir, hashedFileName, safeFileName } from "../../src/replay/index.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "rr-outdir-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(work: Promise<unknown>): Promise<ReplayError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ReplayError)) throw new Error(`expected a ReplayError, got ${String(error)}`);
  return error;
}

describe("file names for ids", () => {
  it("keeps plain ids and names every other id by its full SHA-256 after a '='", () => {
    expect(safeFileName("fig-3")).toBe("fig-3");
    expect(safeFileName("a_b.c-1")).toBe("a_b.c-1");
    expect(safeFileName("a/b")).toBe(`a_b=${sha256Hex("a/b")}`);
    expect(safeFileName("..")).toBe(`_.=${sha256Hex("..")}`);
    expect(safeFileName(".hidden")).toBe(`_hidden=${sha256Hex(".hidden")}`);
    expect(safeFileName("x".repeat(201))).toBe(`${"x".repeat(135)}=${sha256Hex("x".repeat(201))}`);
    expect(safeFileName("x".repeat(200))).toBe("x".repeat(200));
  });

  it("is injective over ids that used to collide, and no hashed name is a plain id's", () => {
    const ids = [
      "a/b",
      "a_b",
      `a_b-${sha256Hex("a/b").slice(0, 12)}`,
      `a_b=${sha256Hex("a/b")}`,
      "a\\b",
      "a b",
      "A/b",
      ".",
      "..",
      "_",
      "",
      `${"y".repeat(180)}/1`,
      `${"y".repeat(180)}/2`,
      "é",
      "e",
    ];
    const names = ids.map(safeFileName);
    expect(new Set(names).size).toBe(ids.length);
    for (const id of ids) {
      const name = hashedFileName(id);
      expect(name).toContain("=");
      expect(name.length).toBeLessThanOrEqual(200);
      expect(name.startsWith(".")).toBe(false);
      // A name with '=' is never a plain id, so never another id's own name.
      expect(safeFileName(name)).not.toBe(name);
    }
  });
});

describe("OutDir", () => {
  const partial = async (out: OutDir, content: string) => {
    const file = out.partialPath("s-1");
    await writeFile(file, content);
    return file;
  };

  it("never hands out a name twice: the second claim of a name gets the hashed one", async () => {
    const out = await OutDir.acquire(dir, "r-1");
    try {
      const first = await out.promote(await partial(out, "one"), "fig");
      // Another artifact whose name is taken (a case-folding file system, say): its own file.
      await writeFile(path.join(dir, "artifacts", "taken"), "someone else's");
      const second = await out.promote(await partial(out, "two"), "taken");
      expect(out.relative(first)).toBe("artifacts/fig");
      expect(out.relative(second)).toBe(`artifacts/taken=${sha256Hex("taken")}`);
      expect(await readFile(first, "utf8")).toBe("one");
      expect(await readFile(second, "utf8")).toBe("two");
      expect(await readFile(path.join(dir, "artifacts", "taken"), "utf8")).toBe("someone else's");
      const diff = await out.writeDiff("s/1", ".txt", "-a\n+b\n");
      expect(out.relative(diff)).toBe(`diffs/s_1=${sha256Hex("s/1")}.txt`);
    } finally {
      await out.release();
    }
  });

  it("refuses a folder that holds another replay, naming its manifest (exit 6)", async () => {
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify({ replay_id: "r-old" }));
    await mkdir(path.join(dir, "artifacts"));
    await writeFile(path.join(dir, "artifacts", "fig"), "old bytes");
    const error = await refusal(OutDir.acquire(dir, "r-new"));
    expect(error.code).toBe("OUTPUT");
    expect(error.message).toBe(
      `The output folder ${dir} already holds replay r-old: its manifest is ${path.join(dir, "manifest.json")}.`,
    );
    expect(error.hint).toMatch(/--force/);
    expect((await readdir(dir)).sort()).toEqual(["artifacts", "manifest.json"]);
  });

  it("refuses a folder that is not empty, listing what is there", async () => {
    await writeFile(path.join(dir, "notes.txt"), "mine");
    const error = await refusal(OutDir.acquire(dir, "r-new"));
    expect(error.message).toBe(`The output folder ${dir} is not empty: it holds 1 entry ("notes.txt").`);
    expect(await readdir(dir)).toEqual(["notes.txt"]);
  });

  it("with force, removes the previous replay's manifest, artifacts/ and diffs/ first, and nothing else", async () => {
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify({ replay_id: "r-old" }));
    await writeFile(path.join(dir, "notes.txt"), "mine");
    await mkdir(path.join(dir, "artifacts"));
    await writeFile(path.join(dir, "artifacts", "fig"), "old bytes");
    await mkdir(path.join(dir, "diffs"));
    await writeFile(path.join(dir, "diffs", "s-1.diff"), "old diff");
    const out = await OutDir.acquire(dir, "r-new", { force: true });
    try {
      expect((await readdir(dir)).sort()).toEqual([".replay.lock", "artifacts", "notes.txt"]);
      expect(await readdir(path.join(dir, "artifacts"))).toEqual([]);
    } finally {
      await out.release();
    }
  });

  it("accepts an empty folder, and one with only a dead process's lock", async () => {
    await writeFile(path.join(dir, ".replay.lock"), "999999999 r-dead\n");
    const out = await OutDir.acquire(dir, "r-new");
    await out.release();
    expect(await readdir(dir)).toEqual(["artifacts"]);
  });

  it("refuses a manifest.json that is a folder before anything runs, even with force", async () => {
    await mkdir(path.join(dir, "manifest.json"));
    for (const force of [false, true]) {
      const error = await refusal(OutDir.acquire(dir, "r-new", { force }));
      expect(error.code).toBe("OUTPUT");
      expect(error.message).toBe(
        `${path.join(dir, "manifest.json")} is a folder, not a file: this replay's manifest could not be written there.`,
      );
    }
    expect(await readdir(dir)).toEqual(["manifest.json"]);
  });

  it("names a dangling --out symbolic link and where it points", async () => {
    const link = path.join(dir, "link");
    await symlink(path.join(dir, "nowhere", "x"), link);
    const error = await refusal(OutDir.acquire(link, "r-new"));
    expect(error.code).toBe("OUTPUT");
    expect(error.message).toBe(
      `Cannot create the output folder ${link}: ${link} is a symbolic link to ${path.join(dir, "nowhere", "x")}, which does not exist.`,
    );
  });

  it("removes a previous replay's artifacts/ however deep, with force", async () => {
    // Built bottom-up with short paths: 3000 levels of 20 characters, 63 000 bytes of path.
    const name = "n".repeat(20);
    const deep = path.join(dir, "deep");
    await mkdir(deep);
    for (let i = 0; i < 3000; i++) {
      await mkdir(path.join(dir, "up"));
      await rename(deep, path.join(dir, "up", name));
      await rename(path.join(dir, "up"), deep);
    }
    await mkdir(path.join(dir, "artifacts"));
    await rename(deep, path.join(dir, "artifacts", "deep"));
    await writeFile(path.join(dir, "manifest.json"), "{}");
    const out = await OutDir.acquire(dir, "r-new", { force: true });
    await out.release();
    expect(await readdir(dir)).toEqual(["artifacts"]);
    expect(await readdir(path.join(dir, "artifacts"))).toEqual([]);
  });
});
