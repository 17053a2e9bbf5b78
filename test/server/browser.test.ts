/**
 * End to end in headless Chromium (Debian's, driven by playwright-core): a reviewer opens an
 * artifact page, enters the API token, clicks Rerun, and watches the replay page until every
 * step reads "reproduced" (the ingest step "verified"). Screenshots of both pages land in test-results/.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { seedServedChain } from "./served-chain.js";
import { apiOf, startServe, waitForReplay, type ServeProcess } from "./serve-process.js";

const TOKEN = "browser-token-51c9";
const RESULTS = path.resolve("test-results");
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

describe("web pages in Chromium", () => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(RESULTS, { recursive: true });
    registry = await createTestRegistry("embedded");
    await seedServedChain(registry);
    // A title that tries to inject markup: the pages must show it as text.
    await registry.with((db) =>
      db.query(`UPDATE artifacts SET title = $1 WHERE id = 'upper'`, [
        'Upper-cased table <img src=x onerror="alert(1)">',
      ]),
    );
    server = await startServe(registry, { REPLAY_API_TOKEN: TOKEN });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser.close();
    await server.stop();
    await registry.dispose();
  });

  it("opens an artifact, clicks Rerun, and shows every step reproduced", async () => {
    // A past replay with a mismatch and its diff, so the pages show both verdicts.
    const api = apiOf(server.url, TOKEN);
    const mismatch = String(
      (await api.request("POST", "/api/artifacts/wrong/rerun", { body: { diff: true } })).json.replay_id,
    );
    await waitForReplay(api, mismatch, ["finished", "failed", "interrupted"]);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${server.url}/artifacts/upper`);
    await expect
      .poll(() => page.locator("h1").textContent())
      .toBe('Upper-cased table <img src=x onerror="alert(1)">');
    expect(await page.locator(".tree .step-line").count()).toBe(2);
    expect(await page.locator(".tree").textContent()).toContain("env unpinned");
    await page.screenshot({ path: path.join(RESULTS, "artifact-page.png"), fullPage: true });

    // Without the token the server says so; with it the replay starts.
    await page.click("#rerun-button");
    await expect
      .poll(() => page.locator("#rerun-message").textContent())
      .toMatch(/token is missing or wrong/);
    await page.fill("#rerun-token", TOKEN);
    await page.check("#rerun-diff");
    await Promise.all([page.waitForURL(/\/replays\/r-/), page.click("#rerun-button")]);
    expect(await page.evaluate('sessionStorage.getItem("replay-runner-token")')).toBe(TOKEN);

    // The page follows the replay live, then reloads into the manifest table.
    await page.waitForSelector("#manifest-table", { timeout: 120_000 });
    const verdicts = await page
      .locator("#manifest-table tbody tr:not(.diff-row) td:nth-child(3)")
      .allTextContents();
    expect(verdicts).toEqual(["verified", "reproduced"]);
    expect(await page.locator(".lead").textContent()).toMatch(
      /Every step reproduced byte for byte \(1 reproduced, 1 frozen input\(s\) verified, of 2\)/,
    );
    await page.screenshot({ path: path.join(RESULTS, "replay-page.png"), fullPage: true });

    // The mismatch: first divergence highlighted, its diff readable in the page.
    await page.goto(`${server.url}/replays/${mismatch}`);
    expect(await page.locator("tr.first-divergence code").first().textContent()).toBe("s-wrong");
    // What differs, in one line, then diffoscope's report in its sandboxed frame.
    expect(await page.locator(".diff-explanation").textContent()).toBe('1 line differs, first "1,2"');
    const report = page.frameLocator("iframe.diff-report").locator("table.diff").first();
    await expect.poll(() => report.textContent(), { timeout: 30_000 }).toMatch(/1,3.*1,2/s);
    await page.screenshot({ path: path.join(RESULTS, "replay-mismatch-page.png"), fullPage: true });
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it("queues a triage from the Rerun form's checkbox and shows the verdict in words", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/artifacts/wrong`);
    await page.fill("#rerun-token", TOKEN);
    await page.check("#rerun-triage");
    await Promise.all([page.waitForURL(/\/replays\/r-/), page.click("#rerun-button")]);
    await page.waitForSelector("#manifest-table", { timeout: 300_000 });
    expect(await page.locator("tr[data-step='s-wrong'] .divergence-mark").textContent()).toBe("origin");
    expect(await page.locator("tr[data-step='s-wrong'] p.triage").textContent()).toMatch(
      /^\s*triage drift: \d+ replays under \d+ variations gave the same bytes, not the recorded ones/,
    );
    expect(await page.locator(".triage-summary").textContent()).toBe("Triage: 1 drift.");
    await page.screenshot({ path: path.join(RESULTS, "replay-triage-page.png"), fullPage: true });
    await page.close();
  });
});
