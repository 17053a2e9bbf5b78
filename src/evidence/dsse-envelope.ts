/**
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse): the signature covers the
 * pre-authentication encoding (PAE) of payloadType and payload, computed by @sigstore/core;
 * Node's crypto signs and verifies. Ed25519 signs PAE itself; ECDSA P-256 signs SHA-256(PAE)
 * with a DER signature, the form `openssl dgst -sha256 -verify` checks.
 */
import { sign, verify } from "node:crypto";
// The one function needed from @sigstore/core: its dsse module alone loads in a fraction of the
// time of the package's index (X.509, ASN.1, timestamps), which a signed replay would pay for.
import { preAuthEncoding } from "@sigstore/core/dist/dsse.js";
import { z } from "zod";
import { ReplayError } from "../errors/index.js";
import type { KeyType, PublicKey, SigningKey } from "./key-pair.js";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

export function pae(payloadType: string, payload: Buffer): Buffer {
  return preAuthEncoding(payloadType, payload);
}

function digestOf(type: KeyType): string | null {
  return type === "ed25519" ? null : "sha256";
}

export function signEnvelope(payloadType: string, payload: Buffer, key: SigningKey): DsseEnvelope {
  const signature = sign(digestOf(key.type), pae(payloadType, payload), key.privateKey);
  return {
    payloadType,
    payload: payload.toString("base64"),
    signatures: [{ keyid: key.keyId, sig: signature.toString("base64") }],
  };
}

// DSSE allows standard and URL-safe base64; Node's decoder would silently skip any other character.
const BASE64 = /^(?:[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*={0,2})$/;

function decodeBase64(text: string, what: string): Buffer {
  if (!BASE64.test(text) || text.replace(/=+$/, "").length % 4 === 1) {
    throw malformed(`${what} is not base64`);
  }
  return Buffer.from(text, "base64");
}

export function malformed(reason: string, cause?: unknown): ReplayError {
  return new ReplayError("ATTESTATION_MALFORMED", `The attestation is malformed: ${reason}.`, {
    hint: "Give the attestation.intoto.json a replay wrote (a DSSE envelope around an in-toto statement).",
    details: { reason },
    cause,
  });
}

const envelopeSchema = z.object({
  payloadType: z.string().min(1),
  payload: z.string(),
  signatures: z
    .array(z.object({ keyid: z.string().default(""), sig: z.string().min(1) }))
    .min(1, "has no signatures"),
});

export interface OpenedEnvelope {
  envelope: DsseEnvelope;
  payload: Buffer;
  signatures: { keyid: string; sig: Buffer }[];
}

export function parseEnvelope(text: string): OpenedEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw malformed("it is not JSON", error);
  }
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw malformed(
      `it is not a DSSE envelope (${issue?.path.join(".") || "envelope"}: ${issue?.message ?? "invalid"})`,
    );
  }
  const envelope = parsed.data;
  return {
    envelope,
    payload: decodeBase64(envelope.payload, "payload"),
    signatures: envelope.signatures.map((s, i) => ({
      keyid: s.keyid,
      sig: decodeBase64(s.sig, `signatures[${i}].sig`),
    })),
  };
}

export type SignatureCheck =
  | { ok: true; keyid: string }
  | { ok: false; kind: "unknown-key"; keyids: string[] }
  | { ok: false; kind: "invalid" };

/**
 * Does a signature by `key` cover this payload? `keyid` is not signed: it only picks the
 * signature to try, so an envelope whose signatures all name other keys is "unknown key", and
 * one naming this key (or none) whose bytes do not verify is "invalid".
 */
export function checkSignature(opened: OpenedEnvelope, key: PublicKey): SignatureCheck {
  const candidates = opened.signatures.filter((s) => s.keyid === "" || s.keyid === key.keyId);
  if (candidates.length === 0)
    return { ok: false, kind: "unknown-key", keyids: opened.signatures.map((s) => s.keyid) };
  const message = pae(opened.envelope.payloadType, opened.payload);
  for (const s of candidates) {
    if (verifies(key, message, s.sig)) return { ok: true, keyid: key.keyId };
  }
  return { ok: false, kind: "invalid" };
}

function verifies(key: PublicKey, message: Buffer, signature: Buffer): boolean {
  try {
    return verify(digestOf(key.type), message, key.publicKey, signature);
  } catch {
    // OpenSSL refuses some malformed signatures (a DER that does not parse) instead of saying false.
    return false;
  }
}
