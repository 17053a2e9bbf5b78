/**
 * Signing keys: Ed25519 (the default) or ECDSA P-256, as PKCS#8 PEM (private, mode 0600) and
 * SPKI PEM (public). Node's crypto makes, reads and uses them; replay-runner only checks that a
 * file is the kind of key its caller asked for, and that a private key is not readable by others.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { ReplayError, messageOf } from "../errors/index.js";

export type KeyType = "ed25519" | "ecdsa-p256";
export const KEY_TYPES: readonly KeyType[] = ["ed25519", "ecdsa-p256"];

export interface SigningKey {
  type: KeyType;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SHA-256 of the public key's SPKI DER, hex: the envelope's `keyid`. */
  keyId: string;
  file: string;
}

export interface PublicKey {
  type: KeyType;
  publicKey: KeyObject;
  keyId: string;
  file: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");
}

function keyError(file: string, message: string, hint: string, cause?: unknown): ReplayError {
  return new ReplayError("SIGNING_KEY", message, { hint, details: { path: file }, cause });
}

function typeOf(key: KeyObject, file: string): KeyType {
  if (key.asymmetricKeyType === "ed25519") return "ed25519";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1")
    return "ecdsa-p256";
  const what =
    key.asymmetricKeyType === "ec"
      ? `ECDSA on curve ${key.asymmetricKeyDetails?.namedCurve ?? "unknown"}`
      : (key.asymmetricKeyType ?? "unknown");
  throw keyError(
    file,
    `The key in ${file} is of an unsupported type (${what}): only Ed25519 and ECDSA P-256 keys sign replays.`,
    "Make a key pair with `replay-runner keygen --out DIR` (add --type ecdsa-p256 for P-256).",
  );
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw keyError(
      file,
      `Cannot read the key file ${file}: ${messageOf(error)}`,
      "Give the path of a PEM key file; `replay-runner keygen --out DIR` makes a pair.",
      error,
    );
  }
}

/** The private key a replay is signed with (`rerun --sign`, REPLAY_SIGNING_KEY). */
export async function loadSigningKey(file: string): Promise<SigningKey> {
  const abs = path.resolve(file);
  const text = await readKeyFile(abs);
  if (/-----BEGIN PUBLIC KEY-----/.test(text)) {
    throw keyError(
      abs,
      `${abs} is a public key: signing needs the private key.`,
      "Give the private key (signing-key.pem from `replay-runner keygen`); the public key is for verify-attestation --key.",
    );
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text)) {
    throw keyError(
      abs,
      `${abs} is an encrypted private key: replay-runner signs unattended and takes no passphrase.`,
      "Decrypt it to a file of mode 0600 (openssl pkey -in KEY -out plain.pem), or make a new pair with keygen.",
    );
  }
  // A secret readable by others is not a secret: refuse it, as ssh does.
  const mode = (await stat(abs)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw keyError(
      abs,
      `The private key ${abs} is accessible by group or others (mode ${mode.toString(8).padStart(4, "0")}).`,
      `Restrict it to its owner: chmod 600 ${abs}`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: text, format: "pem" });
  } catch (error) {
    throw keyError(
      abs,
      `${abs} is not a PEM private key: ${messageOf(error)}`,
      "Give a PKCS#8 PEM private key, as `replay-runner keygen --out DIR` writes.",
      error,
    );
  }
  const type = typeOf(privateKey, abs);
  const publicKey = createPublicKey(privateKey);
  return { type, privateKey, publicKey, keyId: keyIdOf(publicKey), file: abs };
}

/** The public key an attestation is checked with (`verify-attestation --key`). */
export async function loadPublicKey(file: string): Promise<PublicKey> {
  const abs = path.resolve(file);
  const text = await readKeyFile(abs);
  if (/-----BEGIN (ENCRYPTED |EC |RSA )?PRIVATE KEY-----/.test(text)) {
    throw keyError(
      abs,
      `${abs} is a private key: verification needs only the public key, and the private one should not travel.`,
      "Give the public key (signing-key.pub.pem from `replay-runner keygen`).",
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: text, format: "pem" });
  } catch (error) {
    throw keyError(
      abs,
      `${abs} is not a PEM public key: ${messageOf(error)}`,
      "Give an SPKI PEM public key (-----BEGIN PUBLIC KEY-----), as `replay-runner keygen` writes.",
      error,
    );
  }
  return { type: typeOf(publicKey, abs), publicKey, keyId: keyIdOf(publicKey), file: abs };
}

export interface WrittenKeyPair {
  type: KeyType;
  keyId: string;
  privateFile: string;
  publicFile: string;
}

export const PRIVATE_KEY_FILE = "signing-key.pem";
export const PUBLIC_KEY_FILE = "signing-key.pub.pem";

async function writeNew(file: string, text: string, mode: number): Promise<void> {
  // "wx": never overwrite a key; the mode is set at creation, so the secret is never readable by others.
  const handle = await open(file, "wx", mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode); // the umask may have taken bits away from a public key's 0644
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `replay-runner keygen`: a new pair in `dir` (created when missing); existing files are never replaced. */
export async function writeKeyPair(dir: string, type: KeyType): Promise<WrittenKeyPair> {
  const abs = path.resolve(dir);
  const pair =
    type === "ed25519"
      ? generateKeyPairSync("ed25519")
      : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const privatePem = String(pair.privateKey.export({ type: "pkcs8", format: "pem" }));
  const publicPem = String(pair.publicKey.export({ type: "spki", format: "pem" }));
  const privateFile = path.join(abs, PRIVATE_KEY_FILE);
  const publicFile = path.join(abs, PUBLIC_KEY_FILE);
  try {
    await mkdir(abs, { recursive: true, mode: 0o700 });
    await writeNew(privateFile, privatePem, 0o600);
    await writeNew(publicFile, publicPem, 0o644);
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === "EEXIST";
    throw new ReplayError(
      exists ? "USAGE" : "OUTPUT",
      exists
        ? `${abs} already holds a key pair (${PRIVATE_KEY_FILE} or ${PUBLIC_KEY_FILE}): keygen never replaces a key.`
        : `Cannot write the key pair in ${abs}: ${messageOf(error)}`,
      {
        hint: exists
          ? "Choose another --out folder, or remove the old pair yourself."
          : "Choose a writable --out folder.",
        details: { path: abs },
        cause: error,
      },
    );
  }
  return { type, keyId: keyIdOf(pair.publicKey), privateFile, publicFile };
}
