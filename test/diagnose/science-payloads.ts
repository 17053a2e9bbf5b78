/**
 * Outputs that science steps write and that reproduce only by chance: a gzip with the wall clock in
 * its header, a PNG with a tIME chunk, an SVG and a JSON that stamp the date. The recorded payload
 * is built here in TypeScript; the step (Python, in replay-base) writes the same format with a
 * different stamp, so the two differ in exactly the part the explanation must name.
 */
import { deflateRawSync, deflateSync, crc32 } from "node:zlib";
import type { RegistryFixture } from "../support/registry-fixture.js";

export const GZIP_CONTENT = "station,temp\nOslo,3\nRome,18\n";

/** A gzip as Python's gzip.compress(data, mtime=...) writes it: no name, XFL 2 (level 9), OS 255. */
export function gzipWithMtime(content: string, mtime: number): Buffer {
  const data = Buffer.from(content, "utf8");
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
  header.writeUInt32LE(mtime, 4);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, deflateRawSync(data, { level: 9 }), trailer]);
}

export const GZIP_SCRIPT = `import gzip
open("/out/output", "wb").write(gzip.compress(${JSON.stringify(GZIP_CONTENT)}.encode(), mtime=1767323045))
`;

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A 4×4 grey PNG whose tIME chunk says `year`-01-02 03:04:05. */
export function pngWithTime(year: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(4, 0);
  ihdr.writeUInt32BE(4, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const time = Buffer.alloc(7);
  time.writeUInt16BE(year, 0);
  time.set([1, 2, 3, 4, 5], 2);
  const rows = Buffer.concat(Array.from({ length: 4 }, () => Buffer.from([0, 0x20, 0x60, 0xa0, 0xe0])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("tIME", time),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The same PNG, written by the step with the replay's year (2026) in its tIME chunk. */
export const PNG_SCRIPT = `import struct, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
rows = b"".join(b"\\x00\\x20\\x60\\xa0\\xe0" for _ in range(4))
png = (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
       + chunk(b"tIME", struct.pack(">HBBBBB", 2026, 1, 2, 3, 4, 5))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
open("/out/output", "wb").write(png)
`;

/** An SVG figure that stamps when it was generated, in a comment, its metadata and its title. */
export function svgFigure(stamp: string, note = ""): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">
  <!-- generated ${stamp} -->
  <metadata>generated ${stamp}${note}</metadata>
  <title>temperature ${stamp}</title>
  <rect width="40" height="20"/>
</svg>
`;
}

export const svgScript = (stamp: string, note = "") =>
  `open("/out/output", "w").write(${JSON.stringify(svgFigure(stamp, note))})\n`;

export const JSON_RECORDED = `${JSON.stringify({ n: 3, run_at: "2025-05-20T00:00:00Z", stations: ["Oslo", "Rome"] }, null, 2)}\n`;

export const JSON_SCRIPT = `import json
doc = {"n": 3, "run_at": "2026-01-02T03:04:05Z", "stations": ["Oslo", "Rome"]}
open("/out/output", "w").write(json.dumps(doc, indent=2) + "\\n")
`;

/** An ingest step and, fed by it, one step per format: gzip, PNG, SVG, JSON. */
export async function seedSciencePayloads(f: RegistryFixture): Promise<void> {
  await f.artifact("raw", "station,temp\n");
  await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
  const steps = [
    {
      id: "s-gzip",
      target: "table.csv.gz",
      payload: gzipWithMtime(GZIP_CONTENT, 1747699200),
      script: GZIP_SCRIPT,
    },
    { id: "s-png", target: "figure.png", payload: pngWithTime(2025), script: PNG_SCRIPT },
    {
      id: "s-svg",
      target: "figure.svg",
      payload: svgFigure("2025-05-20T00:00:00Z"),
      script: svgScript("2026-01-02T03:04:05Z"),
    },
    { id: "s-json", target: "summary.json", payload: JSON_RECORDED, script: JSON_SCRIPT },
  ];
  for (const s of steps) await f.scriptStep({ ...s, source: "raw" });
}
