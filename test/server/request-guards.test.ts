/**
 * What `serve` refuses and what it logs, with exact status codes and problem bodies:
 *  - cross-site and DNS-rebinding requests (issue 12 item 10): a POST or DELETE sent by a page
 *    of another origin is 403, a POST without `Content-Type: application/json` 415, a `Host`
 *    the server is not reached by 421; the Rerun form's urlencoded POST is taken from the
 *    server's own pages only;
 *  - ids with a NUL byte are 400, not 500 (item 7), and every 500 is written to serve's stderr
 *    with its stack;
 *  - a DELETE of a replay that has ended is 409 with its final status and verdict, of a replay a
 *    `rerun` runs 409 NOT_SERVED (it used to be 202 while nothing could stop it).
 */
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { seedServedChain } from "./served-chain.js";
import {
  apiOf,
  startServe,
  waitFor,
  waitForReplay,
  type Api,
  type ReplayStatus,
  type ServeProcess,
} from "./serve-process.js";

const ENDED: ReplayStatus[] = ["finished", "failed", "interrupted"];
const BOGUS = "r-20260101T000000-bogus1";

interface Answer {
  status: number;
  type: string;
  location: string | undefined;
  json: Record<string, unknown>;
  text: string;
}

/** A request with headers fetch() does not let a caller set (Host). */
function raw(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method, headers },
      (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (d: string) => (text += d));
        response.on("end", () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // a page
          }
          resolve({
            status: response.statusCode ?? 0,
            type: response.headers["content-type"] ?? "",
            location: response.headers.location,
            json,
            text,
          });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

function expectProblem(
  r: { status: number; type: string; json: Record<string, unknown>; text: string },
  status: number,
  code: string,
): void {
  expect(r.status, r.text).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  expect(r.json).toMatchObject({
    status,
    code,
    type: `urn:replay-runner:problem:${code.toLowerCase().replace(/_/g, "-")}`,
  });
  expect(r.text).not.toMatch(/\bat .*\.(js|ts):\d+/);
}

describe.each(BACKENDS)("serve refuses and logs (%s)", (backend) => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let api: Api;
  let own: string;
  let host: string;

  const replaysOf = async (artifact: string) =>
    ((await api.request("GET", `/api/artifacts/${artifact}`)).json.replays as unknown[]).length;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await seedServedChain(registry, { slowSeconds: 20 });
    // A row this version cannot read: reading it is an internal error (500).
    await registry.with((db) =>
      db.query(
        `INSERT INTO replay_runner.replays (id, target_artifact_id, status, options, submitted_via) VALUES ($1, 'nowhere', 'bogus', '{}', 'api')`,
        [BOGUS],
      ),
    );
    server = await startServe(registry);
    api = apiOf(server.url);
    own = server.url;
    host = new URL(server.url).host;
  });
  afterAll(async () => {
    await server.stop();
    await registry.dispose();
  });

  it("refuses a cross-site POST (Origin, Sec-Fetch-Site or Referer of another origin) with 403, and starts nothing", async () => {
    // What fetch(..., {method: "POST", mode: "no-cors"}) from http://evil.example sends: no body.
    const evil = await api.request("POST", "/api/artifacts/upper/rerun", {
      headers: { origin: "http://evil.example" },
    });
    expectProblem(evil, 403, "CROSS_ORIGIN");
    expect(evil.json).toMatchObject({
      title: "Cross-origin request refused",
      detail:
        'POST from "http://evil.example" is refused: only this server\'s own pages may change something here.',
      details: { origin: "http://evil.example" },
    });
    expectProblem(
      await api.request("POST", "/api/artifacts/upper/rerun", { body: {}, headers: { origin: "null" } }),
      403,
      "CROSS_ORIGIN",
    );
    // Same host, another port: another origin.
    const otherPort = `http://127.0.0.1:${Number(new URL(own).port) + 1}`;
    expectProblem(
      await api.request("POST", "/api/artifacts/upper/rerun", { body: {}, headers: { origin: otherPort } }),
      403,
      "CROSS_ORIGIN",
    );
    const site = await api.request("POST", "/api/artifacts/upper/rerun", {
      body: {},
      headers: { "sec-fetch-site": "cross-site" },
    });
    expectProblem(site, 403, "CROSS_ORIGIN");
    expect(site.json.detail).toBe(
      'POST from "a cross-site page" is refused: only this server\'s own pages may change something here.',
    );
    expectProblem(
      await api.request("POST", "/api/artifacts/upper/rerun", {
        body: {},
        headers: { referer: "http://evil.example/page" },
      }),
      403,
      "CROSS_ORIGIN",
    );
    expectProblem(
      await api.request("DELETE", `/api/replays/${BOGUS}`, { headers: { origin: "http://evil.example" } }),
      403,
      "CROSS_ORIGIN",
    );
    expect(await replaysOf("upper")).toBe(0);
  });

  it("refuses a POST whose body is not said to be JSON with 415", async () => {
    const none = await api.request("POST", "/api/artifacts/upper/rerun");
    expectProblem(none, 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(none.json.detail).toBe("POST /api/artifacts/upper/rerun needs Content-Type: application/json.");
    const text = await api.request("POST", "/api/artifacts/upper/rerun", {
      body: "{}",
      headers: { "content-type": "text/plain" },
    });
    expectProblem(text, 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(text.json.detail).toBe(
      'POST /api/artifacts/upper/rerun needs Content-Type: application/json, not "text/plain".',
    );
    expect(await replaysOf("upper")).toBe(0);
  });

  it("answers only the Host names it is reached by: 421 for any other (DNS rebinding)", async () => {
    const port = new URL(own).port;
    for (const name of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
      expect((await raw(`${own}/api/artifacts/upper`, "GET", { host: name })).status).toBe(200);
    const rebound = await raw(`${own}/api/artifacts/upper`, "GET", { host: `evil.example:${port}` });
    expectProblem(rebound, 421, "UNKNOWN_HOST");
    expect(rebound.json).toMatchObject({
      title: "Misdirected request",
      detail: `This server does not answer to the host name "evil.example:${port}".`,
      details: {
        host: `evil.example:${port}`,
        allowed: [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`],
      },
    });
    expectProblem(
      await raw(`${own}/api/artifacts/upper`, "GET", { host: "localhost:1" }),
      421,
      "UNKNOWN_HOST",
    );
    const page = await raw(`${own}/artifacts/upper`, "GET", { host: "evil.example" });
    expect(page.status).toBe(421);
    expect(page.type).toMatch(/^text\/html/);
    const post = await raw(
      `${own}/api/artifacts/upper/rerun`,
      "POST",
      { host: "evil.example", "content-type": "application/json" },
      "{}",
    );
    expectProblem(post, 421, "UNKNOWN_HOST");
    expect(await replaysOf("upper")).toBe(0);
  });

  it("takes the Rerun form's urlencoded POST from its own pages only", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded", host };
    const foreign = await raw(
      `${own}/artifacts/upper/rerun`,
      "POST",
      { ...form, origin: "http://evil.example" },
      "from=&diff=on",
    );
    expect(foreign.status).toBe(403);
    expect(foreign.type).toMatch(/^text\/html/);
    // No Origin, no Sec-Fetch-Site, no Referer: nothing proves it came from this server's page.
    const unproven = await raw(`${own}/artifacts/upper/rerun`, "POST", form, "diff=on");
    expect(unproven.status).toBe(403);
    expect(unproven.text).toContain("this form only accepts posts from this server&#39;s own pages");
    const json = await raw(
      `${own}/artifacts/upper/rerun`,
      "POST",
      { host, origin: own, "content-type": "application/json" },
      "{}",
    );
    expect(json.status).toBe(415);
    expect(await replaysOf("upper")).toBe(0);

    const accepted = await raw(
      `${own}/artifacts/upper/rerun`,
      "POST",
      { ...form, origin: own },
      "from=&diff=on&idempotency_key=form-1",
    );
    expect(accepted.status).toBe(303);
    expect(accepted.location).toMatch(/^\/replays\/r-\d{8}T\d{6}-[0-9a-f]{6}$/);
    const replayId = accepted.location!.slice("/replays/".length);
    const done = await waitForReplay(api, replayId, ENDED);
    expect(done).toMatchObject({
      status: "finished",
      verdict: "reproduced",
      options: { from: null, strict: false, diff: true },
    });
    // The page shows the replay's status and its verdict apart.
    const page = await api.request("GET", `/replays/${replayId}`);
    expect(page.text).toMatch(
      /<span class="badge ok" data-status="finished" data-verdict="reproduced"\s*>reproduced<\/span/,
    );
    // The same key: the same replay.
    const again = await raw(
      `${own}/artifacts/upper/rerun`,
      "POST",
      { ...form, "sec-fetch-site": "same-origin" },
      "diff=on&idempotency_key=form-1",
    );
    expect(again.location).toBe(`/replays/${replayId}`);

    // Once it has ended, a DELETE says so, with the final state.
    const cancel = await api.request("DELETE", `/api/replays/${replayId}`);
    expectProblem(cancel, 409, "ALREADY_FINISHED");
    expect(cancel.json).toMatchObject({
      detail: `Replay ${replayId} has already ended (finished, reproduced); there is nothing to cancel.`,
      details: { replay_id: replayId, status: "finished", verdict: "reproduced" },
    });
  });

  it("answers 400 for ids with a NUL byte, in the API and in the pages", async () => {
    const artifact = await api.request("GET", "/api/artifacts/%00");
    expectProblem(artifact, 400, "USAGE");
    expect(artifact.json.detail).toBe("params.id: must not contain a NUL byte (no registry id can)");
    expectProblem(await api.request("GET", "/api/artifacts/a%00b"), 400, "USAGE");
    expectProblem(await api.request("POST", "/api/artifacts/%00/rerun", { body: {} }), 400, "USAGE");
    const from = await api.request("POST", "/api/artifacts/upper/rerun", { body: { from: "s-\u0000" } });
    expectProblem(from, 400, "USAGE");
    expect(from.json.detail).toBe("body.from: must not contain a NUL byte (no registry id can)");
    expectProblem(await api.request("GET", `/api/replays/${BOGUS.slice(0, -1)}x/diffs/%00`), 400, "USAGE");
    const page = await api.request("GET", "/artifacts/%00");
    expect(page.status).toBe(400);
    expect(page.type).toMatch(/^text\/html/);
    expect((await api.request("GET", "/go?artifact=%00")).status).toBe(400);
    expect(server.output()).not.toMatch(/answered 500/);
  });

  it("writes every 500 to its log with the stack, and tells the client nothing of it", async () => {
    const broken = await api.request("GET", `/api/replays/${BOGUS}`);
    expectProblem(broken, 500, "INTERNAL");
    expect(broken.json.detail).toBe("An internal error occurred; the server log has the details.");
    await waitFor(
      () => server.output().includes(`GET "/api/replays/${BOGUS}" answered 500`),
      "the log line",
      10_000,
    );
    expect(server.output()).toMatch(
      new RegExp(
        `GET "/api/replays/${BOGUS}" answered 500 \\(unexpected error\\): ReplayError: A row of replay_runner\\.replays has an unexpected shape: [^\\n]*(\\n[^\\n]*)*\\n +at `,
      ),
    );
  });
});

describe("DELETE of a replay that a rerun runs (postgres: the CLI and serve share it)", () => {
  let registry: TestRegistry;
  let server: ServeProcess;

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await seedServedChain(registry, { slowSeconds: 4 });
    server = await startServe(registry);
  });
  afterAll(async () => {
    await server.stop();
    await registry.dispose();
  });

  it("is 409 NOT_SERVED naming its process while it runs (it was 202, and it ran on), then 409 ALREADY_FINISHED", async () => {
    const child = spawn(process.execPath, [CLI, "rerun", "slow", "--out", path.join(registry.dir, "cli")], {
      cwd: registry.dir,
      env: cliEnv(registry.env),
      stdio: ["ignore", "pipe", "ignore"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await waitFor(() => /replay (r-\S+) of slow/.test(stdout), "the replay id");
    const replayId = /replay (r-\S+) of slow/.exec(stdout)![1]!;
    const api = apiOf(server.url);
    const running = await api.request("DELETE", `/api/replays/${replayId}`);
    expectProblem(running, 409, "NOT_SERVED");
    expect(running.json).toMatchObject({
      detail: `Replay ${replayId} was started from the command line (process ${child.pid!} on host ${(running.json.details as { host: string }).host}); the server cannot stop it.`,
      details: { replay_id: replayId, status: "running", pid: child.pid },
    });
    expect(await exited).toBe(0);
    const ended = await api.request("DELETE", `/api/replays/${replayId}`);
    expectProblem(ended, 409, "ALREADY_FINISHED");
    expect(ended.json).toMatchObject({ details: { status: "finished", verdict: "reproduced" } });
  });
});

describe("serve --host 0.0.0.0 with a token: the Host names it answers", () => {
  it("answers loopback, this machine's addresses and --allowed-host / REPLAY_ALLOWED_HOSTS names, nothing else", async () => {
    await using registry = await createTestRegistry("embedded");
    await seedServedChain(registry);
    const server = await startServe(
      registry,
      { REPLAY_API_TOKEN: "t-0a1b", REPLAY_ALLOWED_HOSTS: "mirror.example.org:8443" },
      { args: ["--host", "0.0.0.0", "--allowed-host", "replay.example.org"] },
    );
    try {
      const url = `${server.url}/api/artifacts/upper`;
      const port = new URL(server.url).port;
      const address = Object.values((await import("node:os")).networkInterfaces())
        .flatMap((list) => list ?? [])
        .find((i) => i.family === "IPv4" && !i.internal)?.address;
      const answered = [
        `127.0.0.1:${port}`,
        "replay.example.org",
        "replay.example.org:443",
        "mirror.example.org:8443",
      ];
      if (address !== undefined) answered.push(`${address}:${port}`);
      for (const name of answered) expect((await raw(url, "GET", { host: name })).status, name).toBe(200);
      for (const name of [`evil.example:${port}`, "mirror.example.org", `mirror.example.org:${port}`])
        expectProblem(await raw(url, "GET", { host: name }), 421, "UNKNOWN_HOST");
      expect(server.output()).toMatch(
        /answering Host: localhost:\d+, 127\.0\.0\.1:\d+, \[::1\]:\d+, .*replay\.example\.org, mirror\.example\.org:8443\n/,
      );
    } finally {
      await server.stop();
    }
  });

  it("refuses an --allowed-host that is no host name (exit 2)", async () => {
    await using registry = await createTestRegistry("embedded");
    const result = await runCli(["serve", "--port", "0", "--allowed-host", "http://x.example/"], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--allowed-host "http://x.example/" is not a host name: give a name or address, optionally with :port (no scheme, no path).',
    );
  });
});
