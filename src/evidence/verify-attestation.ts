/**
 * `replay-runner verify-attestation`: is this envelope signed by this key, is it a replay's
 * statement, and do its subjects' digests match what the registry records and what the blob
 * store holds (and the manifest beside the file, when there is one)? Each kind of failure is its
 * own ReplayError code, so its own exit code.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { BlobStore } from "../blobs/index.js";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError, messageOf } from "../errors/index.js";
import { IN_TOTO_PAYLOAD_TYPE, checkSignature, malformed, parseEnvelope } from "./dsse-envelope.js";
import type { PublicKey } from "./key-pair.js";
import { STATEMENT_TYPE, VSA_PREDICATE_TYPE } from "./replay-statement.js";

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");
const subjectSchema = z.object({ name: z.string().min(1), digest: z.looseObject({ sha256: hex64 }) });

const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(subjectSchema).min(1),
  predicateType: z.literal(VSA_PREDICATE_TYPE),
  predicate: z.looseObject({
    verifier: z.looseObject({ id: z.string() }),
    timeVerified: z.string(),
    resourceUri: z.string(),
    verificationResult: z.enum(["PASSED", "FAILED"]),
    verifiedLevels: z.array(z.string()),
    replay: z.looseObject({
      replay_id: z.string(),
      target: z.looseObject({ artifact_id: z.string() }),
      artifacts: z.array(z.string()),
      manifest: subjectSchema,
    }),
  }),
});
type Statement = z.infer<typeof statementSchema>;

/** An envelope whose signature verified with the given key, and the statement it carries. */
export interface VerifiedAttestation {
  file: string;
  key: PublicKey;
  statement: Statement;
  /** What held so far, for a person. */
  checked: string[];
}

export interface SubjectCheck {
  /** Check only this artifact (it must be a subject); otherwise every artifact subject. */
  artifactId?: string | undefined;
  db: SqlQueryable;
  blobRoot: string;
}

export interface VerifyReport {
  replayId: string;
  keyId: string;
  verificationResult: "PASSED" | "FAILED";
  verifiedLevels: string[];
  /** Lines for a person: each thing that was checked and held. */
  checked: string[];
}

function digestMismatch(message: string, details: Record<string, unknown>): ReplayError {
  return new ReplayError("DIGEST_MISMATCH", message, {
    hint: "The attested bytes are not the ones there now: the registry row, the blob or the file was changed after signing.",
    details,
  });
}

function parseStatement(payload: Buffer, payloadType: string): Statement {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    throw malformed(`its payloadType is "${payloadType}", not ${IN_TOTO_PAYLOAD_TYPE}`);
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    throw malformed("its payload is not JSON", error);
  }
  const parsed = statementSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw malformed(
      `its payload is not a replay's in-toto statement (${issue?.path.join(".") || "statement"}: ${issue?.message ?? "invalid"})`,
    );
  }
  return parsed.data;
}

async function readAttestation(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new ReplayError("USAGE", `Cannot read the attestation ${file}: ${messageOf(error)}`, {
      hint: "Give the path of a replay's attestation.intoto.json.",
      details: { path: file },
      cause: error,
    });
  }
}

async function sha256OfFile(file: string): Promise<string | null> {
  try {
    return createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Step 1, which needs no registry: the envelope, its signature by `key`, the statement. */
export async function openAttestation(attestationFile: string, key: PublicKey): Promise<VerifiedAttestation> {
  const file = path.resolve(attestationFile);
  const request = { key };
  const opened = parseEnvelope(await readAttestation(file));
  const signature = checkSignature(opened, request.key);
  if (!signature.ok && signature.kind === "unknown-key") {
    throw new ReplayError(
      "UNKNOWN_KEY",
      `The attestation was signed by key ${signature.keyids.join(", ")}, not by --key ${request.key.keyId} (${request.key.file}).`,
      {
        hint: "Verify with the public key of the signer that the attestation names, if you trust it.",
        details: { keyids: signature.keyids, key_id: request.key.keyId },
      },
    );
  }
  if (!signature.ok) {
    throw new ReplayError(
      "SIGNATURE_INVALID",
      `The signature does not verify with key ${request.key.keyId}: the statement or the signature was altered after signing.`,
      {
        hint: "Do not trust this attestation; get the original from the replay's output folder or GET /api/replays/:id/attestation.",
        details: { key_id: request.key.keyId },
      },
    );
  }
  const statement = parseStatement(opened.payload, opened.envelope.payloadType);
  const { predicate } = statement;
  const checked = [
    `signature: valid, ${request.key.type} key ${request.key.keyId}`,
    `statement: in-toto v1, ${VSA_PREDICATE_TYPE}, replay ${predicate.replay.replay_id} by ${predicate.verifier.id} at ${predicate.timeVerified}`,
  ];

  return { file, key, statement, checked };
}

/** Step 2: the subjects' digests against the registry, the blob store and the manifest beside the file. */
export async function checkSubjects(
  verified: VerifiedAttestation,
  request: SubjectCheck,
): Promise<VerifyReport> {
  const { file, statement } = verified;
  const { predicate } = statement;
  const checked = [...verified.checked];
  const subjects = new Map(statement.subject.map((s) => [s.name, s.digest.sha256]));
  const { manifest: manifestSubject } = predicate.replay;
  if (subjects.get(manifestSubject.name) !== manifestSubject.digest.sha256)
    throw malformed(`predicate.replay.manifest (${manifestSubject.name}) is not one of its subjects`);
  const names = request.artifactId === undefined ? predicate.replay.artifacts : [request.artifactId];
  if (request.artifactId !== undefined && !predicate.replay.artifacts.includes(request.artifactId)) {
    throw new ReplayError(
      "NOT_FOUND",
      `Artifact ${request.artifactId} is not a subject of this attestation (its subjects: ${predicate.replay.artifacts.join(", ")}).`,
      { hint: "Name one of the subjects with --artifact, or leave it out to check them all.", details: {} },
    );
  }
  const blobs = new BlobStore(request.blobRoot);
  for (const name of names) {
    const attested = subjects.get(name);
    if (attested === undefined)
      throw malformed(`predicate.replay.artifacts names ${name}, which is not a subject`);
    const contentHash = `sha256:${attested}`;
    const [row] = await request.db.query<{ content_hash: string }>(
      "SELECT content_hash FROM artifacts WHERE id = $1",
      [name],
    );
    if (row === undefined)
      throw digestMismatch(`Artifact ${name} is not in the registry; the attestation says ${contentHash}.`, {
        artifact_id: name,
        attested: contentHash,
      });
    if (row.content_hash !== contentHash)
      throw digestMismatch(
        `The registry records ${row.content_hash} for ${name}; the attestation says ${contentHash}.`,
        { artifact_id: name, attested: contentHash, registry: row.content_hash },
      );
    const blob = await blobs.check(contentHash);
    if (blob.state === "missing")
      throw digestMismatch(
        `The blob store has no blob for ${name} (${contentHash}): ${blob.path} is missing.`,
        {
          artifact_id: name,
          attested: contentHash,
        },
      );
    if (blob.state === "corrupted")
      throw digestMismatch(
        `The blob store's bytes for ${name} hash to ${blob.actualHash}; the attestation says ${contentHash}.`,
        { artifact_id: name, attested: contentHash, actual: blob.actualHash, path: blob.path },
      );
    checked.push(
      `artifact ${name}: ${contentHash} in the registry and in the blob store (${blob.size} bytes)`,
    );
  }

  // The manifest beside the attestation (a replay's output folder), when there is one.
  const manifestFile = path.join(path.dirname(file), "manifest.json");
  const manifestHash = await sha256OfFile(manifestFile);
  const attestedManifest = predicate.replay.manifest.digest.sha256;
  if (manifestHash !== null && manifestHash !== attestedManifest) {
    throw digestMismatch(
      `${manifestFile} hashes to sha256:${manifestHash}; the attestation says sha256:${attestedManifest}: the manifest was edited after signing.`,
      { path: manifestFile, attested: `sha256:${attestedManifest}`, actual: `sha256:${manifestHash}` },
    );
  }
  checked.push(
    manifestHash === null
      ? `manifest: not checked (no manifest.json beside ${path.basename(file)}); attested sha256:${attestedManifest}`
      : `manifest: ${manifestFile} is sha256:${manifestHash}, as attested`,
  );
  return {
    replayId: predicate.replay.replay_id,
    keyId: verified.key.keyId,
    verificationResult: predicate.verificationResult,
    verifiedLevels: predicate.verifiedLevels,
    checked,
  };
}
