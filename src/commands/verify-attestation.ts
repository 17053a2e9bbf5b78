/** `replay-runner verify-attestation FILE --key PUB.pem`: check a signed replay without trusting its signer's machine. */
import type { Command } from "commander";
import { z } from "zod";
import { EXIT, exitCodesHelp } from "../errors/index.js";
import { settingsOf, withRegistry } from "./command-context.js";
import { parseOptions } from "./usage-error.js";

const optionsSchema = z.object({
  key: z.string({ error: "--key PUB.pem is required" }).min(1, "--key PUB.pem is required"),
  artifact: z.string().min(1).optional(),
});

const HELP_AFTER = `
Checks, in this order, and stops at the first that does not hold:
  1. FILE is a DSSE envelope (exit 10 otherwise);
  2. it names the key --key is (its keyid, the SHA-256 of the key's DER; exit 12 otherwise);
  3. its signature verifies over DSSE's PAE of the payload with that key (exit 11: the
     statement or the signature was altered);
  4. the payload is an in-toto Statement v1 with a SLSA verification summary (exit 10);
  5. each artifact subject (or only --artifact ID) is what the registry records as its
     content_hash and what the blob store's bytes hash to, and the manifest.json beside FILE,
     if any, hashes to the attested digest (exit 13 on any difference).
Prints each check that held. Exit 0 when all hold and the replay reproduced (PASSED); 1 when
all hold but the attested replay did not reproduce (FAILED). The registry and blob store are
the global --db/--blobs/--home ones.

The same check by hand with openssl and no replay-runner: README, "Evidence for auditors".

${exitCodesHelp([EXIT.ok, EXIT.notReproduced, EXIT.usage, EXIT.infrastructure, EXIT.attestationMalformed, EXIT.signatureInvalid, EXIT.unknownKey, EXIT.digestMismatch, EXIT.signingKey, EXIT.internal])}`;

export function registerVerifyAttestationCommand(program: Command): void {
  program
    .command("verify-attestation")
    .description(
      "check a replay's signed attestation: signature, key, and digests against the registry and blobs",
    )
    .argument("<file>", "an attestation.intoto.json")
    .option("--key <pub.pem>", "the signer's public key (SPKI PEM, from keygen)")
    .option("--artifact <id>", "check only this subject artifact (default: every artifact subject)")
    .addHelpText("after", HELP_AFTER)
    .action(async (file: string, raw: unknown, command: Command) => {
      const opts = parseOptions(optionsSchema, raw, "verify-attestation");
      const settings = settingsOf(command);
      const { checkSubjects, loadPublicKey, openAttestation } = await import("../evidence/index.js");
      const key = await loadPublicKey(opts.key);
      // The signature first: it needs no registry, and nothing else is worth checking without it.
      const verified = await openAttestation(file, key);
      const report = await withRegistry(settings, {}, (db) =>
        checkSubjects(verified, { db, blobRoot: settings.blobRoot, artifactId: opts.artifact }),
      );
      const levels = report.verifiedLevels.join(", ");
      process.stdout.write(
        `${report.checked.map((line) => `ok  ${line}`).join("\n")}\nverification result: ${report.verificationResult} (${levels})\n`,
      );
      if (report.verificationResult !== "PASSED") {
        process.stdout.write(`replay ${report.replayId} is authentic, but it did not reproduce.\n`);
        process.exitCode = EXIT.notReproduced;
      }
    });
}
