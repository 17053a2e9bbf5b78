/** The output tar is hostile input: crafted streams go straight to the parser. */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHashOf } from "../../src/hashing/index.js";
import { OutputRuleError } from "../../src/runner/index.js";
import { extractOutput } from "../../src/runner/output-archive.js";
import {
  ONE_GIB_LIMITS,
  ONE_GIB_OF_ZEROS,
  ONE_GIB_OF_ZEROS_HASH,
  runPython,
  withPeakRss,
} from "./step-fixture.js";

type Entry = Partial<tar.Header> & { name: string; body?: Buffer };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  // Read while writing: a big entry waits for its reader.
  const chunks: Buffer[] = [];
  const read = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, body ?? Buffer.alloc(0), (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }
  pack.finalize();
  await read;
  return Buffer.concat(chunks);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "rr-out-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
function extract(bytes: Buffer, maxOutputBytes = 1 << 20) {
  const outputFile = path.join(dir, `output-${++files}`);
  return { outputFile, result: extractOutput(Readable.from([bytes]), { outputFile, maxOutputBytes }) };
}

describe("the output archive parser", () => {
  it("extracts the one regular file and hashes its bytes (not the tar's)", async () => {
    const body = Buffer.from("result\n");
    const { outputFile, result } = extract(
      await tarOf([{ name: "output", body, mtime: new Date(), uid: 123 }]),
    );
    expect(await result).toEqual({ contentHash: contentHashOf(body), size: body.length });
    expect(await readFile(outputFile)).toEqual(body);
  });

  const hostile: [string, Entry[], RegExp][] = [
    ["a symlink", [{ name: "output", type: "symlink", linkname: "/etc/shadow" }], /symbolic link/],
    [
      "a hard link",
      [
        { name: "x", body: Buffer.from("a") },
        { name: "output", type: "link", linkname: "x" },
      ],
      /"x"/,
    ],
    ["a hard link alone", [{ name: "output", type: "link", linkname: "/etc/passwd" }], /hard link/],
    ["an absolute path", [{ name: "/output", body: Buffer.from("a") }], /absolute/],
    ["a .. path", [{ name: "../output", body: Buffer.from("a") }], /"\.\."/],
    ["a nested .. path", [{ name: "a/../../etc/output", body: Buffer.from("a") }], /"\.\."/],
    ["a device", [{ name: "output", type: "character-device", devmajor: 1, devminor: 3 }], /device/],
    ["a FIFO", [{ name: "output", type: "fifo" }], /FIFO/],
    [
      "a directory",
      [
        { name: "output/", type: "directory" },
        { name: "output/x", body: Buffer.from("a") },
      ],
      /directory/,
    ],
    [
      "a duplicate",
      [
        { name: "output", body: Buffer.from("a") },
        { name: "output", body: Buffer.from("b") },
      ],
      /twice/,
    ],
    [
      "another file",
      [
        { name: "output", body: Buffer.from("a") },
        { name: "extra", body: Buffer.from("b") },
      ],
      /"extra"/,
    ],
    ["nothing", [], /no \/out\/output/],
    ["too large", [{ name: "output", body: Buffer.alloc(2 << 20) }], /over the limit/],
  ];
  for (const [what, entries, reason] of hostile) {
    it(`rejects ${what}`, async () => {
      const { outputFile, result } = extract(await tarOf(entries));
      await expect(result).rejects.toThrow(OutputRuleError);
      await expect(result).rejects.toThrow(reason);
      // Nothing half-written is left where the caller expects a result.
      await expect(stat(outputFile)).rejects.toThrow();
    });
  }

  it("rejects bytes that are not a tar", async () => {
    const { result } = extract(Buffer.from("this is not a tar archive at all".repeat(40)));
    await expect(result).rejects.toThrow(OutputRuleError);
  });

  it("streams a 1 GiB output from a real step with bounded memory", async () => {
    const { value, growth } = await withPeakRss(() =>
      runPython(ONE_GIB_OF_ZEROS, ONE_GIB_LIMITS, "archives"),
    );
    expect(value.result).toMatchObject({
      status: "succeeded",
      size: 2 ** 30,
      contentHash: ONE_GIB_OF_ZEROS_HASH,
    });
    expect(growth).toBeLessThan(150 * 2 ** 20);
  }, 180_000);
});
