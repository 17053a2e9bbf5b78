/**
 * A replay's attestation as the server shows it: the file in the replay's output folder, which
 * key id it names, and whether it is about the manifest.json that is there now. Only reads: the
 * signature itself is checked by `verify-attestation` with the signer's public key.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import path from "node:path";
import { parseEnvelope } from "./dsse-envelope.js";
import { ATTESTATION_FILE } from "./replay-signer.js";

export interface AttestationSummary {
  text: string;
  keyIds: string[];
  /** True when the statement's manifest digest is the SHA-256 of the manifest.json beside it. */
  matchesManifest: boolean;
}

/** A regular file, read whole (attestations are a few KiB; a cap keeps a planted giant out). */
async function readRegularFile(file: string, maxBytes: number): Promise<Buffer | null> {
  const handle = await open(file, "r").catch(() => null);
  if (handle === null) return null;
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > maxBytes) return null;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export async function readAttestationSummary(outDir: string): Promise<AttestationSummary | null> {
  const bytes = await readRegularFile(path.join(outDir, ATTESTATION_FILE), 16 << 20);
  if (bytes === null) return null;
  const text = bytes.toString("utf8");
  let keyIds: string[];
  let attestedManifest: unknown;
  try {
    const opened = parseEnvelope(text);
    keyIds = opened.signatures.map((s) => s.keyid).filter((k) => k !== "");
    const statement = JSON.parse(opened.payload.toString("utf8")) as {
      predicate?: { replay?: { manifest?: { digest?: { sha256?: unknown } } } };
    };
    attestedManifest = statement.predicate?.replay?.manifest?.digest?.sha256;
  } catch {
    return { text, keyIds: [], matchesManifest: false };
  }
  const manifest = await readRegularFile(path.join(outDir, "manifest.json"), 1 << 30);
  const actual = manifest === null ? null : createHash("sha256").update(manifest).digest("hex");
  return { text, keyIds, matchesManifest: actual !== null && actual === attestedManifest };
}
