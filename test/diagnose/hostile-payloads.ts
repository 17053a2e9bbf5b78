/**
 * Payloads built to make a diff expensive: a zip bomb (2 GiB of zeros in 2 MB), a PNG whose sng
 * dump runs away (20000×20000 pixels), a tar nested 50 deep, and a sparse 1 GiB file. Each
 * comes in two variants (`variant` changes one byte deep inside), so a pair differs.
 */
import { createHash } from "node:crypto";
import { mkdir, open, rename } from "node:fs/promises";
import path from "node:path";
import { constants, createDeflate, createDeflateRaw, crc32 } from "node:zlib";
import tar from "tar-stream";
import { BlobStore } from "../../src/blobs/index.js";

async function deflated(make: typeof createDeflateRaw, chunks: Iterable<Buffer>): Promise<Buffer> {
  // Fast, and still over 200:1 on zeros: what makes a bomb is the ratio, not the last percent.
  const stream = make({ level: constants.Z_BEST_SPEED });
  const out: Buffer[] = [];
  stream.on("data", (c: Buffer) => out.push(c));
  const done = new Promise((resolve, reject) => stream.on("end", resolve).on("error", reject));
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once("drain", resolve));
  }
  stream.end();
  await done;
  return Buffer.concat(out);
}

function* zeros(total: number, last: Buffer): Generator<Buffer> {
  const chunk = Buffer.alloc(1 << 24);
  for (let left = total; left > 0; left -= chunk.length)
    yield chunk.subarray(0, Math.min(left, chunk.length));
  yield last;
}

/** A zip with one deflated member "zeros.bin": 2 GiB of zeros, then the variant's byte. */
export async function zipBomb(variant: string): Promise<Buffer> {
  const size = 2 ** 31;
  const last = Buffer.from(variant);
  let crc = 0;
  for (const chunk of zeros(size, last)) crc = crc32(chunk, crc);
  const data = await deflated(createDeflateRaw, zeros(size, last));
  const name = Buffer.from("zeros.bin");
  const total = size + last.length;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(total, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(total, 24);
  central.writeUInt16LE(name.length, 28);
  const centralOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A grey PNG of 20000×20000 pixels (a few hundred KB): sng writes gigabytes of text for it. */
export async function pngBomb(pixel: number, side = 20_000): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const row = Buffer.alloc(side + 1, pixel);
  row[0] = 0;
  const rows = function* () {
    for (let i = 0; i < side; i++) yield row;
  };
  const idat = await deflated(createDeflate, rows());
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

async function tarOf(name: string, data: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, mtime: new Date(0) }, data);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** A tar in a tar ... 50 deep, the innermost holding one line that says `variant`. */
export async function nestedTar(variant: string, depth = 50): Promise<Buffer> {
  let data: Buffer = Buffer.from(`leaf ${variant}\n`);
  let name = "leaf.txt";
  for (let level = 0; level < depth; level++) {
    data = await tarOf(name, data);
    name = `level-${level}.tar`;
  }
  return data;
}

export const SPARSE_SIZE = 2 ** 30;

/** Writes the step's 1 GiB sparse output: zeros but one byte in the middle. */
export const sparseScript = (byte: string) => `f = open("/out/output", "wb")
f.truncate(${SPARSE_SIZE})
f.seek(${SPARSE_SIZE / 2})
f.write(b"${byte}")
`;

/** The same sparse file as a blob: written in place (no 1 GiB of writes), its hash streamed. */
export async function sparseBlob(blobRoot: string, byte: string): Promise<string> {
  const hash = createHash("sha256");
  const zero = Buffer.alloc(1 << 24);
  for (let at = 0; at < SPARSE_SIZE; at += zero.length) {
    if (at === SPARSE_SIZE / 2) {
      hash.update(Buffer.from(byte));
      hash.update(zero.subarray(1));
    } else hash.update(zero);
  }
  const contentHash = `sha256:${hash.digest("hex")}`;
  const dest = new BlobStore(blobRoot).pathFor(contentHash);
  const tmp = `${dest}.tmp`;
  await mkdir(path.dirname(dest), { recursive: true });
  const handle = await open(tmp, "w");
  try {
    await handle.truncate(SPARSE_SIZE);
    await handle.write(Buffer.from(byte), 0, 1, SPARSE_SIZE / 2);
  } finally {
    await handle.close();
  }
  await rename(tmp, dest);
  return contentHash;
}

/** A step that copies its input: the replayed payload is the source artifact's bytes. */
export const COPY_SCRIPT = `import shutil
shutil.copyfile("/in/source", "/out/output")
`;
