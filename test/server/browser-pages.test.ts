/**
 * The pages as a new user met them (issue 12, item 17), in headless Chromium: the Rerun form
 * works without JavaScript (a plain POST, then the replay's page), step rows link to their
 * artifacts and to downloads of the recorded and replayed payloads (attachments, checked
 * against their hashes), reasons show short hashes, and lineage shows titles.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { chromium, type Browser, type Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { contentHashOf } from "../../src/hashing/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { RAW, seedServedChain } from "./served-chain.js";
import { apiOf, startServe, waitForReplay, type ServeProcess } from "./serve-process.js";

const TOKEN = "pages-token-7d21";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"];
const FULL_HASH = /[0-9a-f]{64}/;

/** An attribute of every element a locator finds. */
async function attributes(locator: Locator, name: string): Promise<(string | null)[]> {
  const values: (string | null)[] = [];
  for (const element of await locator.all()) values.push(await element.getAttribute(name));
  return values;
}

describe("pages in Chromium (issue 12)", () => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let browser: Browser;
  let mismatch: string;

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await seedServedChain(registry);
    server = await startServe(registry, { REPLAY_API_TOKEN: TOKEN });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    const api = apiOf(server.url, TOKEN);
    mismatch = String((await api.request("POST", "/api/artifacts/wrong/rerun", { body: {} })).json.replay_id);
    await waitForReplay(api, mismatch, ["finished", "failed", "interrupted"]);
  });
  afterAll(async () => {
    await browser.close();
    await server.stop();
    await registry.dispose();
  });

  it("reruns from the form without JavaScript: a POST, then the replay's page", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.url}/artifacts/upper`);
    // Lineage shows each artifact's title beside its id.
    expect(await page.locator(".tree .artifact-title").allTextContents()).toEqual([
      "Upper-cased table",
      "Raw survey table",
    ]);

    // Without the token: the server's page says what to do.
    await page.click("#rerun-button");
    expect(await page.locator("h1").textContent()).toBe("401 · Unauthorized");
    expect(await page.locator(".hint").textContent()).toBe(
      "Go back, enter this server's REPLAY_API_TOKEN in the form's API token field, and press Rerun again.",
    );

    await page.goto(`${server.url}/artifacts/upper`);
    await page.fill("#rerun-token", TOKEN);
    await page.selectOption("#rerun-from", "s-upper");
    await page.check("#rerun-diff");
    await Promise.all([page.waitForURL(/\/replays\/r-[0-9A-Za-z-]+$/), page.click("#rerun-button")]);
    const replayId = new URL(page.url()).pathname.split("/").pop() ?? "";
    const done = await waitForReplay(apiOf(server.url), replayId, ["finished", "failed", "interrupted"]);
    expect(done.status).toBe("finished");
    expect(done.verdict).toBe("reproduced");
    expect(done.options).toEqual({ from: "s-upper", strict: false, diff: true, triage: "off", repeat: 2 });
    await page.reload();
    expect(await page.locator("#manifest-table tbody tr td:nth-child(3)").allTextContents()).toEqual([
      "reproduced",
    ]);

    // Pressing Rerun on the same page again (a resubmitted POST) queues no second replay.
    const again = await fetch(`${server.url}/artifacts/upper/rerun`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body: new URLSearchParams({ form_nonce: "0".repeat(32), from: "s-upper", diff: "on", token: TOKEN }),
    });
    const resubmitted = await fetch(`${server.url}/artifacts/upper/rerun`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body: new URLSearchParams({ form_nonce: "0".repeat(32), from: "s-upper", diff: "on", token: TOKEN }),
    });
    expect([again.status, resubmitted.status]).toEqual([303, 303]);
    expect(resubmitted.headers.get("location")).toBe(again.headers.get("location"));
    expect(again.headers.get("location")).toMatch(/^\/replays\/r-[0-9A-Za-z-]+$/);
    await context.close();
  });

  it("refuses the form from another origin, without Origin, and as another media type", async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${server.url}/artifacts/upper/rerun`, { method: "POST", redirect: "manual", headers, body });
    const form = `token=${TOKEN}`;
    const foreign = await post(
      { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" },
      form,
    );
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain(
      "POST from &quot;http://evil.example&quot; is refused: only this server&#39;s own pages may change something here.",
    );
    const none = await post({ "content-type": "application/x-www-form-urlencoded" }, form);
    expect(none.status).toBe(403);
    const json = await post({ "content-type": "application/json", origin: server.url }, "{}");
    expect(json.status).toBe(415);
    const bad = await post(
      { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      `${form}&from=no-such-step`,
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("from: step no-such-step is not in the chain behind upper.");
  });

  it("links each step row to its artifact and to downloads of the recorded and replayed payloads", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/replays/${mismatch}`);
    const rows = page.locator("#manifest-table tbody tr:not(.diff-row)");
    expect(await rows.locator("a.artifact-link").allTextContents()).toEqual(["raw", "wrong"]);
    expect(await attributes(rows.locator("a.artifact-link"), "href")).toEqual([
      "/artifacts/raw",
      "/artifacts/wrong",
    ]);

    // The replayed payload of the mismatching step: what the script wrote, as an attachment.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator('tr[data-step="s-wrong"] td:nth-child(6) a.download').click(),
    ]);
    expect(download.suggestedFilename()).toBe("wrong.replayed");
    expect(await readFile(await download.path(), "utf8")).toBe(RAW);
    await page.close();

    const recorded = await fetch(`${server.url}/artifacts/upper/payload`);
    expect(recorded.status).toBe(200);
    expect(
      Object.fromEntries(
        [
          "content-type",
          "content-disposition",
          "content-length",
          "x-content-type-options",
          "content-security-policy",
        ].map((h) => [h, recorded.headers.get(h)]),
      ),
    ).toEqual({
      "content-type": "text/csv",
      "content-disposition": "attachment; filename=upper.csv",
      "content-length": String(RAW.length),
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox; default-src 'none'",
    });
    expect(await recorded.text()).toBe(RAW.toUpperCase());

    const replayed = await fetch(`${server.url}/replays/${mismatch}/steps/s-wrong/payload`);
    expect(replayed.headers.get("content-type")).toBe("application/octet-stream");
    expect(replayed.headers.get("content-disposition")).toBe("attachment; filename=wrong.replayed");
    expect(await replayed.text()).toBe(RAW);
  });

  it("never serves a payload from outside its place, nor bytes that changed", async () => {
    // A manifest row (database data) pointing out of the replay's folder.
    await registry.with((db) =>
      db.query(
        `UPDATE replay_runner.replays SET manifest = jsonb_set(manifest, '{steps,1,payload}', to_jsonb($2::text)) WHERE id = $1`,
        [mismatch, "../../../../../../etc/passwd"],
      ),
    );
    const outside = await fetch(`${server.url}/replays/${mismatch}/steps/s-wrong/payload`);
    expect(outside.status).toBe(404);
    expect(await outside.text()).toContain(`Replay ${mismatch} has no replayed payload for step s-wrong.`);
    const traversal = await fetch(`${server.url}/artifacts/..%2F..%2Fetc%2Fpasswd/payload`);
    expect(traversal.status).toBe(404);
    expect(await traversal.text()).toContain("There is no artifact ../../etc/passwd in the registry.");

    // The recorded blob of raw altered on disk: refused before a byte is sent.
    const blobs = new BlobStore(registry.blobRoot);
    const blob = blobs.pathFor(contentHashOf(RAW));
    await rm(blob, { force: true });
    await writeFile(blob, RAW.replace("1", "9"));
    const altered = await fetch(`${server.url}/artifacts/raw/payload`);
    expect(altered.status).toBe(422);
    expect(await altered.text()).toContain(
      `The recorded payload of raw no longer hashes to ${contentHashOf(RAW)} (its bytes hash to ${contentHashOf(RAW.replace("1", "9"))}); the download was stopped.`,
    );
    // A large one already on its way is cut short before its last bytes.
    const big = Buffer.alloc(6 * 1024 * 1024, "x");
    await registry.with(async (db) => {
      await new RegistryFixture(db, blobs).artifact("big", big, { title: "Six MiB of x" });
    });
    const bigBlob = blobs.pathFor(contentHashOf(big));
    const changed = Buffer.from(big);
    changed[changed.length - 1] = 0x79;
    await rm(bigBlob, { force: true });
    await writeFile(bigBlob, changed);
    const cut = await fetch(`${server.url}/artifacts/big/payload`);
    expect(cut.status).toBe(200);
    await expect(cut.arrayBuffer()).rejects.toThrow();
  });

  it("shows short hashes in the reason column, the full value on hover and copy", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/replays/${mismatch}`);
    const reason = page.locator('tr[data-step="s-wrong"] td.reason');
    const text = (await reason.textContent()) ?? "";
    expect(text).not.toMatch(FULL_HASH);
    const titles = await attributes(reason.locator(".hash code"), "title");
    // "replayed output hashes to <replayed>, the registry records <recorded>"
    expect(titles).toEqual([contentHashOf(RAW), contentHashOf("a,b\n1,3\n")]);
    expect(text).toContain(`replayed output hashes to ${contentHashOf(RAW).slice(7, 17)}…`);
    const copies = await attributes(reason.locator("button.copy"), "data-copy");
    expect(copies).toEqual(titles);
    await page.screenshot({ path: "test-results/replay-reasons.png", fullPage: true });
    // Three short lines at this width, not 2 × 71 characters of hash wrapped over eight.
    const lines = await page.evaluate(
      `document.querySelector('tr[data-step="s-wrong"] td.reason .reason-text').getClientRects().length`,
    );
    expect(lines).toBeLessThanOrEqual(3);
    await page.close();
  });
});
