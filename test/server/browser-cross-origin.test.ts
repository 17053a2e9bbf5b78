/**
 * In headless Chromium (Debian's, driven by playwright-core), against a server without a
 * token: a page of another origin that does `fetch(..., {method: "POST", mode: "no-cors"})`
 * or submits a plain form to the server starts no replay (before, the no-cors fetch did: it
 * sends exactly an Origin and no body). The server's own page still can, with a form posted
 * the way a browser without JavaScript would.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { seedServedChain } from "./served-chain.js";
import { apiOf, startServe, waitFor, waitForReplay, type ServeProcess } from "./serve-process.js";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The attacker's page: on `localhost` (another site than 127.0.0.1), another port. */
function attackerPage(target: string): string {
  return `<!doctype html><html><body>
<form id="f" method="post" action="${target}/artifacts/upper/rerun"><input name="diff" value="on"></form>
<script>
  window.sent = fetch(${JSON.stringify(`${target}/api/artifacts/upper/rerun`)}, { method: "POST", mode: "no-cors" })
    .then(() => "sent", (e) => "error: " + e.message);
</script></body></html>`;
}

describe("cross-origin requests from a real browser", () => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let browser: Browser;
  let attacker: http.Server;
  let attackerUrl: string;
  const hits: string[] = [];

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await seedServedChain(registry);
    server = await startServe(registry); // no REPLAY_API_TOKEN: only the origin checks stand
    attacker = http.createServer((request, response) => {
      hits.push(request.url ?? "");
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(attackerPage(server.url));
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser.close();
    await new Promise((resolve) => attacker.close(resolve));
    await server.stop();
    await registry.dispose();
  });

  const replaysOfUpper = async () =>
    (await apiOf(server.url).request("GET", "/api/artifacts/upper")).json.replays as { replay_id: string }[];

  it("a no-cors fetch and a form post from another origin start no replay", async () => {
    const page = await browser.newPage();
    const refused: number[] = [];
    page.on("response", (r) => {
      if (r.url().startsWith(server.url) && r.request().method() === "POST") refused.push(r.status());
    });
    await page.goto(attackerUrl);
    expect(hits).toContain("/");
    // The request left the browser (an opaque answer is all a no-cors fetch gets).
    expect(await page.evaluate("window.sent")).toBe("sent");
    await Promise.all([
      page.waitForURL(`${server.url}/artifacts/upper/rerun`),
      page.evaluate("document.getElementById('f').submit()"),
    ]);
    expect(await page.locator("h1").textContent()).toBe("403 · Cross-origin request refused");
    await waitFor(() => refused.length >= 2, "the server's answers to both posts");
    expect(refused.every((status) => status === 403)).toBe(true);
    expect(await replaysOfUpper()).toEqual([]);
    await page.close();
  });

  it("the server's own page still queues a replay with a plain form post", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/artifacts/upper`);
    // The form as a browser without JavaScript posts it (method, action, urlencoded fields).
    await Promise.all([
      page.waitForURL(/\/replays\/r-/),
      page.evaluate(`(() => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/artifacts/upper/rerun";
        const diff = document.createElement("input");
        diff.name = "diff"; diff.value = "on";
        form.appendChild(diff);
        document.body.appendChild(form);
        HTMLFormElement.prototype.submit.call(form);
      })()`),
    ]);
    const replayId = new URL(page.url()).pathname.slice("/replays/".length);
    expect(
      await waitForReplay(apiOf(server.url), replayId, ["finished", "failed", "interrupted"]),
    ).toMatchObject({
      status: "finished",
      verdict: "reproduced",
      options: { diff: true },
    });
    expect((await replaysOfUpper()).map((r) => r.replay_id)).toEqual([replayId]);
    await page.close();
  });
});
