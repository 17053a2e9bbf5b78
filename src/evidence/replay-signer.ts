/**
 * Signs a replay: once manifest.json is written, `<out>/attestation.intoto.json` (a DSSE envelope
 * around the replay's in-toto statement) is written beside it, atomically, like the manifest.
 */
import { createHash } from "node:crypto";
import os from "node:os";
import type { WrittenManifest } from "../replay/index.js";
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type DsseEnvelope } from "./dsse-envelope.js";
import { loadSigningKey, type SigningKey } from "./key-pair.js";
import { replayStatement } from "./replay-statement.js";

export const ATTESTATION_FILE = "attestation.intoto.json";

export function defaultVerifierId(host = os.hostname()): string {
  return `urn:replay-runner:verifier:${encodeURIComponent(host)}`;
}

export class ReplaySigner {
  constructor(
    readonly key: SigningKey,
    readonly verifierId: string,
    readonly toolVersion: string,
  ) {}

  envelopeFor(written: Pick<WrittenManifest, "manifest" | "manifestText">): DsseEnvelope {
    const statement = replayStatement({
      manifest: written.manifest,
      manifestSha256: createHash("sha256").update(written.manifestText).digest("hex"),
      verifierId: this.verifierId,
      toolVersion: this.toolVersion,
    });
    return signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), this.key);
  }

  /** The ReplayDeps.attest hook. */
  async attest(written: WrittenManifest): Promise<void> {
    await written.out.writeText(ATTESTATION_FILE, `${JSON.stringify(this.envelopeFor(written), null, 2)}\n`);
  }
}

export interface SignerChoice {
  /** `rerun --sign FILE`; wins over the environment. */
  keyFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  toolVersion: string;
}

/**
 * The signer a command uses: `--sign`, else REPLAY_SIGNING_KEY, else none (unsigned replays).
 * The key is read and checked here, before anything runs, so a bad key costs no replay.
 */
export async function signerFor(choice: SignerChoice): Promise<ReplaySigner | undefined> {
  const env = choice.env ?? process.env;
  const file = choice.keyFile ?? (env.REPLAY_SIGNING_KEY?.trim() || undefined);
  if (file === undefined) return undefined;
  const verifierId = env.REPLAY_VERIFIER_ID?.trim() || defaultVerifierId();
  return new ReplaySigner(await loadSigningKey(file), verifierId, choice.toolVersion);
}
