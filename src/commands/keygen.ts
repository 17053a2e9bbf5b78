/** `replay-runner keygen --out DIR`: a key pair for signing replays (rerun --sign, REPLAY_SIGNING_KEY). */
import type { Command } from "commander";
import { z } from "zod";
import { EXIT, exitCodesHelp } from "../errors/index.js";
import { parseOptions } from "./usage-error.js";

const optionsSchema = z.object({
  out: z.string({ error: "--out DIR is required" }).min(1, "--out DIR is required"),
  type: z
    .enum(["ed25519", "ecdsa-p256"], { error: "--type must be ed25519 or ecdsa-p256" })
    .default("ed25519"),
});

const HELP_AFTER = `
Writes DIR/signing-key.pem (the private key, PKCS#8 PEM, mode 0600) and DIR/signing-key.pub.pem
(the public key, SPKI PEM), and prints the key id: the SHA-256 of the public key's DER, which
every attestation signed with it names. Existing files are never replaced.

Sign replays with \`rerun --sign DIR/signing-key.pem\` or REPLAY_SIGNING_KEY (serve signs every
replay when it is set); hand the public key to whoever verifies (verify-attestation --key, or
openssl: README, "Evidence for auditors").

${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.output, EXIT.signingKey, EXIT.internal])}`;

export function registerKeygenCommand(program: Command): void {
  program
    .command("keygen")
    .description("make a key pair for signing replay attestations (Ed25519, or ECDSA P-256)")
    .option("--out <dir>", "folder for signing-key.pem and signing-key.pub.pem (created when missing)")
    .option("--type <type>", "ed25519 (default) or ecdsa-p256")
    .addHelpText("after", HELP_AFTER)
    .action(async (raw: unknown) => {
      const opts = parseOptions(optionsSchema, raw, "keygen");
      // Loaded here: the evidence code costs the other commands nothing at start-up.
      const { writeKeyPair } = await import("../evidence/index.js");
      const pair = await writeKeyPair(opts.out, opts.type);
      process.stdout.write(
        `private key: ${pair.privateFile} (mode 0600: keep it secret)\npublic key:  ${pair.publicFile}\nkey id:      ${pair.keyId} (${pair.type})\n`,
      );
    });
}
