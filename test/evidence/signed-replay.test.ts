/**
 * A signed replay of a real chain, checked the way an auditor would: with verify-attestation,
 * with the README's openssl commands (run as they are written there), and with Python's
 * cryptography (Debian's python3-cryptography); then tampered with, one byte at a time.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { readManifest } from "../support/manifest-schema.js";
import { runCli, type CliResult } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { CHAIN_STEPS, recordEvidenceChain, type EvidenceChain } from "./evidence-chain.js";

const run = promisify(execFile);
/** Debian's interpreter: python3-cryptography is installed for it (scripts/setup-host.sh evidence). */
const DEBIAN_PYTHON = "/usr/bin/python3";

/** The README's fenced block after `<!-- evidence-test: NAME -->`, exactly as written there. */
async function readmeBlock(name: string): Promise<string> {
  const readme = await readFile(path.resolve("README.md"), "utf8");
  const match = new RegExp(`<!-- evidence-test: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (match?.[1] === undefined) throw new Error(`README.md has no evidence-test block "${name}"`);
  return match[1];
}

async function bash(script: string, cwd: string): Promise<string> {
  const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script], { cwd });
  return stdout;
}

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

const PY_VERIFY = `
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
env = json.load(open(sys.argv[1]))
key = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
payload = base64.b64decode(env["payload"])
ptype = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
sig = base64.b64decode(env["signatures"][0]["sig"])
if isinstance(key, ed25519.Ed25519PublicKey):
    key.verify(sig, pae)  # raises InvalidSignature otherwise
    kind = "ed25519"
else:
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    key.verify(sig, pae, ec.ECDSA(hashes.SHA256()))
    kind = "ecdsa-p256"
der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
from hashlib import sha256
assert sha256(der).hexdigest() == env["signatures"][0]["keyid"], "keyid"
print("verified", kind, json.loads(payload)["predicate"]["verificationResult"])
`;

describe("signed replays", () => {
  let registry: TestRegistry;
  let chain: EvidenceChain;
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, {
      env: { ...registry.env, REPLAY_WHEELHOUSE: chain.wheelhouse, ...env },
      cwd: registry.dir,
    });
  /** <dir>/keys and <dir>/replay, the layout the README's commands use. */
  const ed = () => path.join(registry.dir, "ed25519");
  const ec = () => path.join(registry.dir, "ecdsa");
  let keygenEd: CliResult;
  let keygenEc: CliResult;
  let signedEd: CliResult;
  let signedEc: CliResult;
  let manifest: Manifest;
  let envelope: Envelope;
  let statement: Record<string, unknown> & {
    subject: { name: string; digest: { sha256: string } }[];
    predicate: Record<string, unknown> & { replay: { steps: { step_id: string; status: string }[] } };
  };

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    chain = await recordEvidenceChain(registry);
    keygenEd = await cli(["keygen", "--out", path.join(ed(), "keys")]);
    keygenEc = await cli(["keygen", "--out", path.join(ec(), "keys"), "--type", "ecdsa-p256"]);
    signedEd = await cli([
      "rerun",
      "citation",
      "--sign",
      path.join(ed(), "keys", "signing-key.pem"),
      "--out",
      path.join(ed(), "replay"),
    ]);
    // The environment variable signs as well as the flag does.
    signedEc = await cli(["rerun", "citation", "--out", path.join(ec(), "replay")], {
      REPLAY_SIGNING_KEY: path.join(ec(), "keys", "signing-key.pem"),
    });
    manifest = await readManifest(path.join(ed(), "replay"));
    envelope = JSON.parse(
      await readFile(path.join(ed(), "replay", "attestation.intoto.json"), "utf8"),
    ) as Envelope;
    statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as typeof statement;
  });
  afterAll(async () => {
    await registry.dispose();
  });

  const keyIdOf = async (pub: string) =>
    (
      await bash(`openssl pkey -pubin -in ${pub} -outform DER | sha256sum | cut -d' ' -f1`, registry.dir)
    ).trim();

  it("keygen writes a 0600 PKCS#8 private key and an SPKI public key, and prints the key id", async () => {
    expect(keygenEd.code, keygenEd.stderr).toBe(0);
    expect(keygenEc.code, keygenEc.stderr).toBe(0);
    for (const [dir, type] of [
      [ed(), "ed25519"],
      [ec(), "ecdsa-p256"],
    ] as const) {
      const priv = path.join(dir, "keys", "signing-key.pem");
      const pub = path.join(dir, "keys", "signing-key.pub.pem");
      expect((await stat(priv)).mode & 0o777).toBe(0o600);
      expect(await readFile(priv, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(await readFile(pub, "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      const out = type === "ed25519" ? keygenEd.stdout : keygenEc.stdout;
      expect(out).toBe(
        `private key: ${priv} (mode 0600: keep it secret)\npublic key:  ${pub}\nkey id:      ${await keyIdOf(pub)} (${type})\n`,
      );
    }
    // Never over an existing pair.
    const again = await cli(["keygen", "--out", path.join(ed(), "keys")]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a key pair .* keygen never replaces a key\.$/m);
  });

  it("rerun --sign writes a DSSE envelope of an in-toto statement with a SLSA verification summary", async () => {
    expect(signedEd.code, signedEd.stderr).toBe(0);
    const keyId = await keyIdOf(path.join(ed(), "keys", "signing-key.pub.pem"));
    expect(signedEd.stdout).toMatch(/^REPRODUCED: 4 reproduced, 1 verified of 5 step\(s\) in /m);
    expect(signedEd.stdout.split("\n").slice(-3)).toEqual([
      "manifest: ed25519/replay/manifest.json",
      `attestation: ed25519/replay/attestation.intoto.json (key id ${keyId})`,
      "",
    ]);
    expect(envelope.payloadType).toBe("application/vnd.in-toto+json");
    expect(envelope.signatures.map((s) => s.keyid)).toEqual([keyId]);
    const manifestBytes = await readFile(path.join(ed(), "replay", "manifest.json"));
    const hex = (id: string) => chain.fixture.hashOf(id).slice("sha256:".length);
    expect(statement._type).toBe("https://in-toto.io/Statement/v1");
    expect(statement.predicateType).toBe("https://slsa.dev/verification_summary/v1");
    expect(statement.subject).toEqual([
      { name: "citation", digest: { sha256: hex("citation") } },
      { name: "raw", digest: { sha256: hex("raw") } },
      { name: "clean", digest: { sha256: hex("clean") } },
      { name: "stats", digest: { sha256: hex("stats") } },
      { name: "figure", digest: { sha256: hex("figure") } },
      { name: "manifest.json", digest: { sha256: createHash("sha256").update(manifestBytes).digest("hex") } },
    ]);
    expect(statement.predicate).toMatchObject({
      verifier: { id: expect.stringMatching(/^urn:replay-runner:verifier:/) as unknown },
      timeVerified: manifest.finished_at,
      resourceUri: "urn:replay-runner:artifact:citation",
      policy: {
        uri: "urn:replay-runner:policy:byte-identical:v1",
        annotations: { from: null, strict: false },
      },
      verificationResult: "PASSED",
      verifiedLevels: ["REPLAY_RUNNER_BYTE_IDENTICAL_V1", "REPLAY_RUNNER_WHOLE_CHAIN_V1"],
    });
    expect(statement.predicate.replay.steps.map((s) => [s.step_id, s.status])).toEqual(
      CHAIN_STEPS.map((id) => [id, id === "s-ingest" ? "verified" : "reproduced"]),
    );
    // The ECDSA replay, signed through REPLAY_SIGNING_KEY.
    expect(signedEc.code, signedEc.stderr).toBe(0);
    expect(signedEc.stdout).toMatch(
      /^attestation: ecdsa\/replay\/attestation\.intoto\.json \(key id [0-9a-f]{64}\)$/m,
    );
  });

  it("verify-attestation checks the signature, the registry, the blobs and the manifest: exit 0", async () => {
    const pub = path.join(ed(), "keys", "signing-key.pub.pem");
    const result = await cli([
      "verify-attestation",
      path.join(ed(), "replay", "attestation.intoto.json"),
      "--key",
      pub,
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const blobLine = (id: string) => {
      const hash = chain.fixture.hashOf(id);
      return `ok  artifact ${id}: ${hash} in the registry and in the blob store (`;
    };
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(`ok  signature: valid, ed25519 key ${await keyIdOf(pub)}`);
    expect(lines[1]).toMatch(
      new RegExp(
        `^ok  statement: in-toto v1, https://slsa\\.dev/verification_summary/v1, replay ${manifest.replay_id} by urn:replay-runner:verifier:\\S+ at ${manifest.finished_at}$`,
      ),
    );
    ["citation", "raw", "clean", "stats", "figure"].forEach((id, i) => {
      expect(lines[2 + i]).toMatch(new RegExp(`^${blobLine(id).replace(/[()]/g, "\\$&")}\\d+ bytes\\)$`));
    });
    expect(lines[7]).toBe(
      `ok  manifest: ${path.join(ed(), "replay", "manifest.json")} is sha256:${createHash("sha256")
        .update(await readFile(path.join(ed(), "replay", "manifest.json")))
        .digest("hex")}, as attested`,
    );
    expect(lines.slice(8)).toEqual([
      "verification result: PASSED (REPLAY_RUNNER_BYTE_IDENTICAL_V1, REPLAY_RUNNER_WHOLE_CHAIN_V1)",
      "",
    ]);
    const one = await cli([
      "verify-attestation",
      path.join(ec(), "replay", "attestation.intoto.json"),
      "--key",
      path.join(ec(), "keys", "signing-key.pub.pem"),
      "--artifact",
      "figure",
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^ok {2}signature: valid, ecdsa-p256 key [0-9a-f]{64}$/m);
    expect(one.stdout.match(/^ok {2}artifact /gm)).toEqual(["ok  artifact "]);
  });

  it("the README's openssl commands verify both signatures by hand", async () => {
    const pae = await readmeBlock("pae");
    const edOut = await bash(`${pae}${await readmeBlock("ed25519")}`, ed());
    expect(edOut).toBe("Signature Verified Successfully\n");
    const ecOut = await bash(`${pae}${await readmeBlock("ecdsa")}`, ec());
    expect(ecOut).toBe("Verified OK\n");
    // What they signed is the payload of the envelope, byte for byte.
    expect(await readFile(path.join(ed(), "statement.json"))).toEqual(
      Buffer.from(envelope.payload, "base64"),
    );
    const subjects = await bash(await readmeBlock("subjects"), ed());
    const keyId = envelope.signatures[0]!.keyid;
    const manifestHex = createHash("sha256")
      .update(await readFile(path.join(ed(), "replay", "manifest.json")))
      .digest("hex");
    expect(subjects).toBe(
      [
        `${keyId}  -`,
        "PASSED",
        ...statement.subject.map((s) => `${s.digest.sha256}  ${s.name}`),
        `${manifestHex}  replay/manifest.json`,
        "",
      ].join("\n"),
    );
  });

  it("Python's cryptography (Debian's python3-cryptography) verifies both", async () => {
    for (const dir of [ed(), ec()]) {
      const { stdout } = await run(DEBIAN_PYTHON, [
        "-c",
        PY_VERIFY,
        path.join(dir, "replay", "attestation.intoto.json"),
        path.join(dir, "keys", "signing-key.pub.pem"),
      ]);
      expect(stdout).toBe(dir === ed() ? "verified ed25519 PASSED\n" : "verified ecdsa-p256 PASSED\n");
    }
  });

  describe("tampering", () => {
    const pub = () => path.join(ed(), "keys", "signing-key.pub.pem");
    const verify = (file: string, extra: string[] = []) =>
      cli(["verify-attestation", file, "--key", pub(), ...extra]);
    const tampered = async (name: string, change: (e: Envelope) => Envelope): Promise<string> => {
      // Beside a copy of the manifest, so only the changed part can fail.
      const dir = path.join(registry.dir, `tampered-${name}`);
      await mkdir(dir, { recursive: true });
      await writeFile(
        path.join(dir, "manifest.json"),
        await readFile(path.join(ed(), "replay", "manifest.json")),
      );
      const file = path.join(dir, "attestation.intoto.json");
      await writeFile(file, JSON.stringify(change(structuredClone(envelope))));
      return file;
    };
    const flip = (b64: string, at: number) => {
      const bytes = Buffer.from(b64, "base64");
      bytes[at] = bytes[at]! ^ 0x01;
      return bytes.toString("base64");
    };

    it("one flipped byte of the statement: exit 11, the signature does not verify", async () => {
      const payload = Buffer.from(envelope.payload, "base64");
      // A hex digit of the target's digest: "…a…" becomes "…`…" or similar, still JSON.
      const at = payload.indexOf(statement.subject[0]!.digest.sha256) + 5;
      const file = await tampered("statement", (e) => ({ ...e, payload: flip(e.payload, at) }));
      const result = await verify(file);
      expect(result.code).toBe(11);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        `error: The signature does not verify with key ${envelope.signatures[0]!.keyid}: the statement or the signature was altered after signing.\nhint: Do not trust this attestation; get the original from the replay's output folder or GET /api/replays/:id/attestation.\n`,
      );
    });

    it("one flipped byte of the signature: exit 11", async () => {
      const file = await tampered("signature", (e) => ({
        ...e,
        signatures: [{ keyid: e.signatures[0]!.keyid, sig: flip(e.signatures[0]!.sig, 10) }],
      }));
      const result = await verify(file);
      expect(result.code).toBe(11);
      expect(result.stderr).toMatch(/^error: The signature does not verify with key [0-9a-f]{64}: /);
    });

    it("one flipped byte of a replayed artifact's blob: exit 13 naming it; restored, exit 0 again", async () => {
      const blob = new BlobStore(registry.blobRoot).pathFor(chain.fixture.hashOf("stats"));
      const original = await readFile(blob);
      await chmod(blob, 0o644);
      const changed = Buffer.from(original);
      changed[0] = changed[0]! ^ 0x01;
      await writeFile(blob, changed);
      const actual = `sha256:${createHash("sha256").update(changed).digest("hex")}`;
      try {
        const result = await verify(path.join(ed(), "replay", "attestation.intoto.json"));
        expect(result.code).toBe(13);
        expect(result.stderr).toBe(
          `error: The blob store's bytes for stats hash to ${actual}; the attestation says ${chain.fixture.hashOf("stats")}.\nhint: The attested bytes are not the ones there now: the registry row, the blob or the file was changed after signing.\n`,
        );
        // --artifact checks only the one named.
        expect(
          (await verify(path.join(ed(), "replay", "attestation.intoto.json"), ["--artifact", "figure"])).code,
        ).toBe(0);
      } finally {
        await writeFile(blob, original);
      }
      expect((await verify(path.join(ed(), "replay", "attestation.intoto.json"))).code).toBe(0);
    });

    it("a registry row changed after signing: exit 13", async () => {
      const other = `sha256:${"0".repeat(64)}`;
      const before = chain.fixture.hashOf("raw");
      await registry.with((db) =>
        db.query("UPDATE artifacts SET content_hash = $1 WHERE id = 'raw'", [other]),
      );
      try {
        const result = await verify(path.join(ed(), "replay", "attestation.intoto.json"));
        expect(result.code).toBe(13);
        expect(result.stderr).toMatch(
          `error: The registry records ${other} for raw; the attestation says ${before}.\n`,
        );
      } finally {
        await registry.with((db) =>
          db.query("UPDATE artifacts SET content_hash = $1 WHERE id = 'raw'", [before]),
        );
      }
    });

    it("an edited manifest beside the attestation: exit 13", async () => {
      const file = await tampered("manifest", (e) => e);
      const text = await readFile(path.join(path.dirname(file), "manifest.json"), "utf8");
      await writeFile(
        path.join(path.dirname(file), "manifest.json"),
        text.replace('"ok": true', '"ok": false'),
      );
      const result = await verify(file);
      expect(result.code).toBe(13);
      expect(result.stderr).toMatch(
        /^error: .*manifest\.json hashes to sha256:[0-9a-f]{64}; the attestation says sha256:[0-9a-f]{64}: the manifest was edited after signing\.$/m,
      );
    });

    it("another key: exit 12 naming both key ids", async () => {
      const otherPub = path.join(ec(), "keys", "signing-key.pub.pem");
      const result = await cli([
        "verify-attestation",
        path.join(ed(), "replay", "attestation.intoto.json"),
        "--key",
        otherPub,
      ]);
      expect(result.code).toBe(12);
      expect(result.stderr).toBe(
        `error: The attestation was signed by key ${envelope.signatures[0]!.keyid}, not by --key ${await keyIdOf(otherPub)} (${otherPub}).\nhint: Verify with the public key of the signer that the attestation names, if you trust it.\n`,
      );
    });

    it("not an envelope: exit 10", async () => {
      const notJson = path.join(registry.dir, "not-json.intoto.json");
      await writeFile(notJson, "{ not json");
      const a = await verify(notJson);
      expect(a.code).toBe(10);
      expect(a.stderr).toMatch(/^error: The attestation is malformed: it is not JSON\.$/m);
      const noSig = await tampered("no-signatures", (e) => ({ ...e, signatures: [] }));
      const b = await verify(noSig);
      expect(b.code).toBe(10);
      expect(b.stderr).toMatch(
        /^error: The attestation is malformed: it is not a DSSE envelope \(signatures: has no signatures\)\.$/m,
      );
    });
  });

  describe("keys that cannot be used", () => {
    it("a private key readable by group or others: exit 14 before anything runs", async () => {
      const key = path.join(registry.dir, "loose", "signing-key.pem");
      await mkdir(path.dirname(key), { recursive: true });
      await writeFile(key, await readFile(path.join(ed(), "keys", "signing-key.pem")), { mode: 0o600 });
      await chmod(key, 0o640);
      const out = path.join(registry.dir, "never-written");
      const result = await cli(["rerun", "citation", "--sign", key, "--out", out]);
      expect(result.code).toBe(14);
      expect(result.stderr).toBe(
        `error: The private key ${key} is accessible by group or others (mode 0640).\nhint: Restrict it to its owner: chmod 600 ${key}\n`,
      );
      await expect(stat(out)).rejects.toThrow(/ENOENT/);
    });

    it("the public key given as the private one: exit 14", async () => {
      const pub = path.join(ed(), "keys", "signing-key.pub.pem");
      const result = await cli(["rerun", "citation", "--sign", pub]);
      expect(result.code).toBe(14);
      expect(result.stderr).toMatch(`error: ${pub} is a public key: signing needs the private key.\n`);
    });

    it("an unsupported key type (RSA): exit 14 on both sides", async () => {
      const dir = path.join(registry.dir, "rsa");
      await mkdir(dir, { recursive: true });
      await bash(
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null && chmod 600 rsa.pem && openssl pkey -in rsa.pem -pubout -out rsa.pub.pem",
        dir,
      );
      const sign = await cli(["rerun", "citation", "--sign", path.join(dir, "rsa.pem")]);
      expect(sign.code).toBe(14);
      expect(sign.stderr).toMatch(
        `error: The key in ${path.join(dir, "rsa.pem")} is of an unsupported type (rsa): only Ed25519 and ECDSA P-256 keys sign replays.\n`,
      );
      const verify = await cli([
        "verify-attestation",
        path.join(ed(), "replay", "attestation.intoto.json"),
        "--key",
        path.join(dir, "rsa.pub.pem"),
      ]);
      expect(verify.code).toBe(14);
      expect(verify.stderr).toMatch(/is of an unsupported type \(rsa\)/);
      const privateAsPublic = await cli([
        "verify-attestation",
        path.join(ed(), "replay", "attestation.intoto.json"),
        "--key",
        path.join(ed(), "keys", "signing-key.pem"),
      ]);
      expect(privateAsPublic.code).toBe(14);
      expect(privateAsPublic.stderr).toMatch(/is a private key: verification needs only the public key/);
    });
  });

  it("a replay that does not reproduce is attested FAILED, and verify-attestation exits 1", async () => {
    await registry.with(async (db) => {
      const { RegistryFixture } = await import("../support/registry-fixture.js");
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      f.hashes.set("raw", chain.fixture.hashOf("raw"));
      await f.scriptStep({
        id: "s-edited",
        source: "raw",
        target: "edited",
        payload: "recorded bytes that the script does not write",
        script: 'open("/out/output", "wb").write(open("/in/source", "rb").read())\n',
      });
    });
    const out = path.join(registry.dir, "failed");
    const key = path.join(ed(), "keys", "signing-key.pem");
    expect((await cli(["rerun", "edited", "--sign", key, "--out", out])).code).toBe(1);
    const env = JSON.parse(await readFile(path.join(out, "attestation.intoto.json"), "utf8")) as Envelope;
    const st = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8")) as typeof statement;
    expect(st.predicate).toMatchObject({ verificationResult: "FAILED", verifiedLevels: ["FAILED"] });
    // The target did not reproduce: it is still the subject the verdict is about; raw reproduced.
    expect(st.subject.map((s) => s.name)).toEqual(["edited", "raw", "manifest.json"]);
    const result = await cli([
      "verify-attestation",
      path.join(out, "attestation.intoto.json"),
      "--key",
      path.join(ed(), "keys", "signing-key.pub.pem"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^verification result: FAILED \(FAILED\)\nreplay r-\S+ is authentic, but it did not reproduce\.\n$/m,
    );
  });
});
