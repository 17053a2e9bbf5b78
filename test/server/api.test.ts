/**
 * The HTTP API of `replay-runner serve`, against a real server process, real Docker and both
 * registries: every status code it promises, problem+json errors, idempotency, the dedupe of a
 * replay still running, and cancellation that leaves no container behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { seedServedChain } from "./served-chain.js";
import {
  apiOf,
  containersOf,
  startServe,
  waitFor,
  waitForReplay,
  type Api,
  type ServeProcess,
} from "./serve-process.js";

const TOKEN = "test-token-7f3a";

function expectProblem(
  r: { status: number; type: string; json: Record<string, unknown>; text: string },
  status: number,
  code?: string,
): void {
  expect(r.status).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  expect(r.json).toMatchObject({
    status,
    type: expect.stringMatching(/^urn:replay-runner:problem:/) as unknown,
    title: expect.any(String) as unknown,
    detail: expect.any(String) as unknown,
  });
  if (code !== undefined) expect(r.json.code).toBe(code);
  expect(r.text).not.toMatch(/\bat .*\.(js|ts):\d+/); // never a stack trace
}

describe.each(BACKENDS)("serve API (%s)", (backend) => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let api: Api;
  let anonymous: Api;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await seedServedChain(registry);
    server = await startServe(registry, { REPLAY_API_TOKEN: TOKEN });
    api = apiOf(server.url, TOKEN);
    anonymous = apiOf(server.url);
  });
  afterAll(async () => {
    await server.stop();
    await registry.dispose();
  });

  it("401 without or with a wrong token, and nothing is queued", async () => {
    expectProblem(
      await anonymous.request("POST", "/api/artifacts/upper/rerun", { body: {} }),
      401,
      "UNAUTHORIZED",
    );
    const wrong = await apiOf(server.url, "not-the-token").request("POST", "/api/artifacts/upper/rerun", {
      body: {},
    });
    expectProblem(wrong, 401, "UNAUTHORIZED");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expectProblem(await anonymous.request("DELETE", "/api/replays/r-20260101T000000-abcdef"), 401);
    const artifact = await anonymous.request("GET", "/api/artifacts/upper");
    expect(artifact.status).toBe(200);
    expect(artifact.json.replays).toEqual([]);
  });

  it("400 names the bad field; 404 for an unknown artifact or replay", async () => {
    const strict = await api.request("POST", "/api/artifacts/upper/rerun", { body: { strict: "yes" } });
    expectProblem(strict, 400, "USAGE");
    expect(strict.json.detail).toMatch(/^body\.strict: /);
    expect(strict.json.details).toMatchObject({ field: "strict" });
    const unknown = await api.request("POST", "/api/artifacts/upper/rerun", { body: { form: "s-raw" } });
    expectProblem(unknown, 400);
    expect(unknown.json.detail).toMatch(/form/);
    expectProblem(await api.request("POST", "/api/artifacts/upper/rerun", { body: "{not json" }), 400);
    const triage = await api.request("POST", "/api/artifacts/upper/rerun", { body: { triage: "yes" } });
    expectProblem(triage, 400, "USAGE");
    expect(triage.json.detail).toBe('body.triage: must be true, false or "all"');
    const repeat = await api.request("POST", "/api/artifacts/upper/rerun", {
      body: { triage: true, repeat: 1 },
    });
    expect(repeat.json.detail).toBe("body.repeat: must be at least 2");
    const from = await api.request("POST", "/api/artifacts/upper/rerun", { body: { from: "s-nowhere" } });
    expectProblem(from, 400);
    expect(from.json.detail).toMatch(/^body\.from: /);
    expectProblem(
      await api.request("POST", "/api/artifacts/upper/rerun", {
        body: {},
        headers: { "idempotency-key": "has space" },
      }),
      400,
    );

    expectProblem(
      await api.request("POST", "/api/artifacts/no-such-artifact/rerun", { body: {} }),
      404,
      "NOT_FOUND",
    );
    expectProblem(await api.request("GET", "/api/artifacts/no-such-artifact"), 404, "NOT_FOUND");
    expectProblem(await api.request("GET", "/api/replays/r-20260101T000000-abcdef"), 404, "NOT_FOUND");
    expectProblem(await api.request("GET", "/api/replays/not-a-replay-id"), 400);
    expectProblem(await api.request("GET", "/api/nothing-here"), 404);
  });

  it("202 queues a replay; its status, progress and manifest follow; a repeated Idempotency-Key returns it", async () => {
    // No body: no options; the media type is still said (a cross-origin page could not say it).
    const headers = { "idempotency-key": `k-${backend}-1`, "content-type": "application/json" };
    const first = await api.request("POST", "/api/artifacts/upper/rerun", { headers });
    expect(first.status).toBe(202);
    const replayId = String(first.json.replay_id);
    expect(replayId).toMatch(/^r-\d{8}T\d{6}-[0-9a-f]{6}$/);
    expect(first.json).toMatchObject({ status_url: `/api/replays/${replayId}`, created: true });
    expect(first.headers.get("location")).toBe(`/api/replays/${replayId}`);

    const again = await api.request("POST", "/api/artifacts/upper/rerun", { headers });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ replay_id: replayId, created: false });
    // The same key for another artifact is a client error, not a silent mix-up.
    expectProblem(await api.request("POST", "/api/artifacts/raw/rerun", { headers }), 400);

    const done = await waitForReplay(api, replayId, ["finished", "failed", "interrupted"]);
    expect(done).toMatchObject({ status: "finished", verdict: "reproduced" });
    expect(done.progress).toEqual([
      expect.objectContaining({ step_id: "s-raw", status: "verified", ok: true }),
      expect.objectContaining({ step_id: "s-upper", status: "reproduced", ok: true }),
    ]);
    const manifest = done.manifest as { status: string; steps: { step_id: string; ok: boolean }[] };
    expect(manifest.status).toBe("reproduced");
    expect(manifest.steps.map((s) => [s.step_id, s.ok])).toEqual([
      ["s-raw", true],
      ["s-upper", true],
    ]);

    // After it finished, the key still names the same replay.
    const later = await api.request("POST", "/api/artifacts/upper/rerun", { headers });
    expect(later.json).toMatchObject({ replay_id: replayId, created: false, status: "finished" });

    const artifact = await api.request("GET", "/api/artifacts/upper");
    expect(artifact.status).toBe(200);
    expect(artifact.json.artifact).toMatchObject({ id: "upper", artifact_type: "table" });
    expect((artifact.json.lineage as { steps: { id: string }[] }).steps.map((s) => s.id)).toEqual([
      "s-raw",
      "s-upper",
    ]);
    expect(artifact.json.replays).toEqual([
      expect.objectContaining({ replay_id: replayId, status: "finished", verdict: "reproduced" }),
    ]);

    expectProblem(await api.request("DELETE", `/api/replays/${replayId}`), 409, "ALREADY_FINISHED");
  });

  it("a mismatch with diff: true is explained, and its diff is served", async () => {
    const queued = await api.request("POST", "/api/artifacts/wrong/rerun", { body: { diff: true } });
    expect(queued.status).toBe(202);
    const replayId = String(queued.json.replay_id);
    const done = await waitForReplay(api, replayId, ["finished", "failed", "interrupted"]);
    // It ran to its end: finished, and its verdict says what came out.
    expect(done).toMatchObject({ status: "finished", verdict: "not_reproduced" });
    const row = (done.manifest as { steps: Record<string, unknown>[] }).steps.find(
      (r) => r.step_id === "s-wrong",
    );
    expect(row?.diff).toMatchObject({ explanation: '1 line differs, first "1,2"', truncated: false });
    const diff = await api.request("GET", `/api/replays/${replayId}/diffs/s-wrong`);
    expect(diff.status).toBe(200);
    expect(diff.type).toMatch(/^text\/plain/);
    expect(diff.text).toMatch(/-1,3\n\+1,2/);
    const json = await api.request("GET", `/api/replays/${replayId}/diffs/s-wrong/json`);
    expect(json.type).toMatch(/^application\/json/);
    expect(json.json["diffoscope-json-version"]).toBe(1);
    // diffoscope's HTML under its own policy: a sandbox, no script, framed only by our pages.
    const report = await api.request("GET", `/api/replays/${replayId}/diffs/s-wrong/html`);
    expect(report.type).toMatch(/^text\/html/);
    expect(report.headers.get("content-security-policy")).toBe(
      "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    );
    expect(report.headers.get("x-content-type-options")).toBe("nosniff");
    expect(report.text).toContain("/in/recorded");
    expectProblem(await api.request("GET", `/api/replays/${replayId}/diffs/s-raw`), 404);
    expectProblem(await api.request("GET", `/api/replays/${replayId}/diffs/s-raw/html`), 404);
  });

  it("triage: true triages the origin mismatch, and the replay page says its verdict in words", async () => {
    const queued = await api.request("POST", "/api/artifacts/wrong/rerun", {
      body: { triage: true, repeat: 3 },
    });
    expect(queued.status).toBe(202);
    const replayId = String(queued.json.replay_id);
    const done = await waitForReplay(api, replayId, ["finished", "failed", "interrupted"]);
    expect(done).toMatchObject({ status: "finished", verdict: "not_reproduced" });
    expect(done.options).toMatchObject({ triage: "origins", repeat: 3 });
    const manifest = done.manifest as {
      summary: { triage: Record<string, number> };
      steps: {
        step_id: string;
        divergence: string | null;
        triage: { verdict: string; runs: unknown[]; not_applied: unknown[]; clock: string } | null;
      }[];
    };
    const wrong = manifest.steps.find((s) => s.step_id === "s-wrong")!;
    expect([wrong.divergence, wrong.triage?.verdict, wrong.triage?.runs.length]).toEqual([
      "origin",
      "drift",
      11,
    ]);
    // The step calls time.sleep, which libfaketime 0.9.10 breaks under a frozen clock (EINVAL):
    // every run falls back to the real clock, and the clock is the one thing not varied.
    const why =
      "the step fails under libfaketime's frozen clock (the step exited with status 1: OSError: [Errno 22] Invalid argument)";
    expect(wrong.triage?.not_applied).toEqual([{ variation: "clock", why }]);
    expect(wrong.triage?.clock).toBe(
      `every run used the real clock: ${why}; a value stamped with the time may differ between repeats`,
    );
    expect(manifest.summary.triage).toMatchObject({ triaged: 1, drift: 1 });
    const page = await anonymous.request("GET", `/replays/${replayId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<span class="badge bad small divergence-mark">origin</span>');
    expect(page.text).toMatch(
      /<strong>triage<\/strong> drift: 11 replays under 7 variations gave the same bytes, not the recorded ones/,
    );
    expect(page.text).toMatch(/Triage: 1 drift\./);
  });

  it("a second submission while one runs returns the running replay; DELETE cancels it and removes its container", async () => {
    const first = await api.request("POST", "/api/artifacts/slow/rerun", { body: {} });
    expect(first.status).toBe(202);
    const replayId = String(first.json.replay_id);
    const second = await api.request("POST", "/api/artifacts/slow/rerun", { body: {} });
    expect(second.json).toMatchObject({ replay_id: replayId, created: false });

    // Cancel once the long step's container runs.
    await waitFor(() => containersOf(replayId).length > 0, "the slow step's container", 90_000);
    const cancel = await api.request("DELETE", `/api/replays/${replayId}`);
    expect(cancel.status).toBe(202);
    expect(cancel.json).toMatchObject({ replay_id: replayId, cancel_requested: true });
    const done = await waitForReplay(api, replayId, ["finished", "failed", "interrupted"], 60_000);
    expect(done.status).toBe("interrupted");
    expect((done.manifest as { interrupted: boolean }).interrupted).toBe(true);
    expect(containersOf(replayId)).toEqual([]);

    // Now that it is over, a new submission starts a new replay.
    const next = await api.request("POST", "/api/artifacts/slow/rerun", { body: {} });
    expect(next.json).toMatchObject({ created: true });
    expect(next.json.replay_id).not.toBe(replayId);
    // A queued (or just started) replay cancels too.
    const nextId = String(next.json.replay_id);
    const cancelNext = await api.request("DELETE", `/api/replays/${nextId}`);
    expect([200, 202]).toContain(cancelNext.status);
    expect((await waitForReplay(api, nextId, ["finished", "failed", "interrupted"], 60_000)).status).toBe(
      "interrupted",
    );
    expect(containersOf(nextId)).toEqual([]);
  });
});
