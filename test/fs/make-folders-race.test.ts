/**
 * makeFolders when another process creates the same folder between its two looks (two replays
 * sharing a home both create <home>/staging). That once failed, exit 6, with "<home>/staging is
 * a file, not a folder". The other process is played here by the first `stat` of the folder,
 * which creates it for real and then answers ENOENT, as the race does.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";

const raced = new Set<string>();

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>();
  return {
    ...real,
    async stat(target: string, ...rest: []) {
      if (raced.has(target)) {
        raced.delete(target);
        await real.mkdir(target);
        throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${target}'`), {
          code: "ENOENT",
        });
      }
      return real.stat(target, ...rest);
    },
  };
});

const { makeFolders } = await import("../../src/fs/index.js");

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "rr-make-folders-race-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("takes a folder made by another process between its stat and lstat as made", async () => {
  const staging = path.join(dir, "staging");
  raced.add(staging);
  await makeFolders(path.join(staging, "run-1"), { what: "the staging folder", hint: "-" });
  expect(raced.size).toBe(0); // the race was played
  expect((await stat(path.join(staging, "run-1"))).isDirectory()).toBe(true);
});
