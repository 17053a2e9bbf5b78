/**
 * Evidence over HTTP: `serve` with REPLAY_SIGNING_KEY signs every replay; the API serves the
 * attestation (404 with a problem body when a replay was not signed) and the manifest's schema;
 * the replay page says whether and by which key id the replay was signed, and links the file.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPublicKey, openAttestation } from "../../src/evidence/index.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { seedServedChain } from "./served-chain.js";
import { apiOf, startServe, waitForReplay, type Api, type ServeProcess } from "./serve-process.js";

describe("attestations and the manifest schema over HTTP", () => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let api: Api;
  let keyId: string;
  const pub = () => path.join(registry.dir, "keys", "signing-key.pub.pem");

  beforeAll(async () => {
    // PostgreSQL: the CLI records an unsigned replay while the server runs.
    registry = await createTestRegistry("postgres");
    await seedServedChain(registry, { slowSeconds: 1 });
    const keygen = await runCli(["keygen", "--out", "keys"], { env: registry.env, cwd: registry.dir });
    keyId = /^key id: {6}([0-9a-f]{64}) /m.exec(keygen.stdout)![1]!;
    server = await startServe(registry, {
      REPLAY_SIGNING_KEY: path.join(registry.dir, "keys", "signing-key.pem"),
    });
    api = apiOf(server.url);
  });
  afterAll(async () => {
    await server.stop();
    await registry.dispose();
  });

  it("signs a served replay; GET /api/replays/:id/attestation returns the file, signed by the key", async () => {
    expect(server.output()).toContain(`signing every replay with key id ${keyId}\n`);
    const replayId = String(
      (await api.request("POST", "/api/artifacts/upper/rerun", { body: {} })).json.replay_id,
    );
    const finished = await waitForReplay(api, replayId, ["finished", "failed", "interrupted"]);
    expect([finished.status, finished.verdict]).toEqual(["finished", "reproduced"]);
    const response = await api.request("GET", `/api/replays/${replayId}/attestation`);
    expect(response.status).toBe(200);
    expect(response.type).toBe("application/json; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="${replayId}.attestation.intoto.json"`,
    );
    const file = path.join(registry.home, "replays", replayId, "attestation.intoto.json");
    expect(response.text).toBe(await readFile(file, "utf8"));
    const verified = await openAttestation(file, await loadPublicKey(pub()));
    expect(verified.statement.predicate.replay.replay_id).toBe(replayId);
    expect(verified.statement.predicate.verificationResult).toBe("PASSED");

    const page = await api.request("GET", `/replays/${replayId}`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(
      new RegExp(
        `<dd id="signature">\\s*yes, by key id\\s*<code>${keyId}</code> ·\\s*<a href="/api/replays/${replayId}/attestation" download>attestation\\.intoto\\.json</a>`,
      ),
    );
  });

  it("404 with a problem body for a replay that was not signed; its page says so", async () => {
    const out = path.join(registry.dir, "unsigned");
    const cli = await runCli(["rerun", "upper", "--out", out], { env: registry.env, cwd: registry.dir });
    expect(cli.code, cli.stderr).toBe(0);
    const replayId = (
      JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as { replay_id: string }
    ).replay_id;
    const response = await api.request("GET", `/api/replays/${replayId}/attestation`);
    expect(response.status).toBe(404);
    expect(response.type).toMatch(/^application\/problem\+json/);
    expect(response.json).toMatchObject({
      status: 404,
      code: "NOT_FOUND",
      detail: `Replay ${replayId} was not signed: it has no attestation.`,
      details: { replay_id: replayId },
    });
    const page = await api.request("GET", `/replays/${replayId}`);
    expect(page.text).toContain(`<dd id="signature">no: this replay has no attestation</dd>`);
    expect((await api.request("GET", "/api/replays/r-20260101T000000-abcdef/attestation")).status).toBe(404);
  });

  it("GET /schemas/manifest.json serves the published schema", async () => {
    const response = await api.request("GET", "/schemas/manifest.json");
    expect(response.status).toBe(200);
    expect(response.type).toBe("application/schema+json; charset=utf-8");
    expect(response.text).toBe(await readFile(path.resolve("schemas/manifest.schema.json"), "utf8"));
  });
});
