/** The signer of `rerun` and `serve`: `--sign KEY`, else REPLAY_SIGNING_KEY, else none. */
import type { WrittenManifest } from "../replay/index.js";
import { VERSION } from "../version.js";

export interface ReplaySigning {
  keyId: string;
  attest: (written: WrittenManifest) => Promise<void>;
}

/**
 * Reads and checks the key before anything runs (a bad key costs no replay). The evidence code
 * is loaded only when a replay is signed: unsigned replays start no slower.
 */
export async function replaySigning(keyFile?: string): Promise<ReplaySigning | undefined> {
  if (keyFile === undefined && (process.env.REPLAY_SIGNING_KEY?.trim() ?? "") === "") return undefined;
  const { signerFor } = await import("../evidence/index.js");
  const signer = await signerFor({ keyFile, toolVersion: VERSION });
  if (signer === undefined) return undefined;
  return { keyId: signer.key.keyId, attest: (written) => signer.attest(written) };
}
