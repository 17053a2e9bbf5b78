/**
 * The replay page shows diffoscope's HTML report of each mismatch inline, in headless Chromium:
 * the PNG's chunks and the gzip's header. The report quotes the payloads, so it is hostile: a
 * <script> in a payload (and, in case diffoscope ever failed to escape one, a live <script> put
 * into the report file itself) must not run, reach the page, or load anything.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { seedSciencePayloads, svgFigure, svgScript } from "../diagnose/science-payloads.js";
import { apiOf, startServe, waitForReplay, type ServeProcess } from "./serve-process.js";

const RESULTS = path.resolve("test-results");
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"];
/** What a script in a payload would do if it ran: tell the page, fetch a URL we watch, raise a dialog. */
const PAYLOAD_SCRIPT =
  '<script>parent.postMessage("pwned-payload", "*"); fetch("/pwned-payload"); alert("pwned")</script>';
const TAMPERED =
  '<script>parent.postMessage("pwned-report", "*"); fetch("/pwned-report"); top.location = "/pwned-top"</script>' +
  "<img src=\"/pwned-img\" onerror=\"parent.postMessage('pwned-img', '*')\">";
const MERGE = `import os
with open("/out/output", "wb") as out:
    for name in sorted(os.listdir("/in")):
        if name != "params.json":
            out.write(open("/in/" + name, "rb").read())
`;

/**
 * What a script or a load from a report would leave: a request that reached the server (the
 * policy blocks loads in the browser, which still reports them as failed requests), a dialog.
 */
function watch(page: Page): string[] {
  const seen: string[] = [];
  page.on("response", (r) => {
    if (r.url().includes("pwned")) seen.push(`reached the server: ${r.url()}`);
  });
  page.on("requestfailed", (r) => {
    const why = r.failure()?.errorText ?? "";
    if (r.url().includes("pwned") && !["csp", "net::ERR_BLOCKED_BY_CSP"].includes(why))
      seen.push(`${r.url()}: ${why}`);
  });
  page.on("dialog", (d) => {
    seen.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return seen;
}

describe("diffoscope's reports on the replay page, in Chromium", () => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let browser: Browser;
  let replayId: string;

  beforeAll(async () => {
    await mkdir(RESULTS, { recursive: true });
    registry = await createTestRegistry("embedded");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await seedSciencePayloads(f);
      await f.scriptStep({
        id: "s-scripted",
        source: "raw",
        target: "scripted.svg",
        payload: svgFigure("2025-05-20T00:00:00Z"),
        script: svgScript("2026-01-02T03:04:05Z", PAYLOAD_SCRIPT),
      });
      await f.scriptStep({
        id: "s-figures",
        target: "figures",
        stepType: "merge",
        payload: "recorded bundle\n",
        script: MERGE,
        inputs: [
          { name: "table.csv.gz", artifactId: "table.csv.gz" },
          { name: "figure.png", artifactId: "figure.png" },
          { name: "scripted.svg", artifactId: "scripted.svg" },
        ],
      });
    });
    server = await startServe(registry);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    const api = apiOf(server.url);
    replayId = String(
      (await api.request("POST", "/api/artifacts/figures/rerun", { body: { diff: true } })).json.replay_id,
    );
    await waitForReplay(api, replayId, ["finished", "failed", "interrupted"], 300_000);
    // A report as a diffoscope that failed to escape would write it: live markup in the file.
    const report = path.join(registry.home, "replays", replayId, "diffs", "s-scripted.html");
    await writeFile(
      report,
      (await readFile(report, "utf8")).replace(/<body[^>]*>/i, (body) => `${body}${TAMPERED}`),
    );
  }, 600_000);
  afterAll(async () => {
    await browser.close();
    await server.stop();
    await registry.dispose();
  });

  it("shows the PNG's and the gzip's reports inline, and no script in them runs", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const pwned = watch(page);
    // Only in the top page: what a frame's script would post to it.
    await page.addInitScript({
      content: `if (window === window.top) {
        window.seen = [];
        window.addEventListener("message", (e) => window.seen.push(String(e.data)));
      }`,
    });
    await page.goto(`${server.url}/replays/${replayId}`);
    await page.waitForSelector("#manifest-table");

    const explanation = (step: string) =>
      page.locator(`tr[data-step="${step}"] + tr.diff-row .diff-explanation`).textContent();
    expect(await explanation("s-png")).toBe("PNG chunk tIME differs");
    expect(await explanation("s-gzip")).toBe("gzip header: modification time differs");
    // s-gzip, s-png, s-scripted and the bundle they feed (inherited): one report each.
    expect(await page.locator("tr.diff-row iframe.diff-report").count()).toBe(4);
    for (const step of ["s-png", "s-gzip", "s-scripted"]) {
      expect(await page.locator(`iframe[src$="/diffs/${step}/html"]`).getAttribute("sandbox")).toBe("");
    }

    // The reports themselves, rendered in their frames (diffoscope shows a space as "·").
    const text = (step: string) =>
      page.frameLocator(`iframe[src$="/diffs/${step}/html"]`).locator("table.diff").first().textContent();
    await expect.poll(() => text("s-png"), { timeout: 30_000 }).toMatch(/tIME·\{/);
    expect(await text("s-png")).toMatch(/year:·+2026/);
    await expect.poll(() => text("s-gzip"), { timeout: 30_000 }).toMatch(/last·modified:·Tue·May·20/);
    // The payload's script is shown as text; the tampered report's own script is inert.
    await expect
      .poll(() => text("s-scripted"), { timeout: 30_000 })
      .toMatch(/<script>parent\.postMessage\((&quot;|")pwned-payload/);
    await page.locator('iframe[src$="/diffs/s-png/html"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(RESULTS, "replay-diffoscope-reports.png"), fullPage: true });

    // Long enough for any script to have run, fetched and posted.
    await page.waitForTimeout(1500);
    expect(await page.evaluate("window.seen")).toEqual([]);
    expect(pwned).toEqual([]);
    expect(page.url()).toBe(`${server.url}/replays/${replayId}`);
    await page.close();
  });

  it("the report opened on its own is still sandboxed: its scripts do not run", async () => {
    const page = await browser.newPage();
    const pwned = watch(page);
    const response = await page.goto(`${server.url}/api/replays/${replayId}/diffs/s-scripted/html`);
    expect(response?.headers()["content-security-policy"]).toMatch(/^sandbox; default-src 'none'/);
    expect(await page.locator("table.diff").first().textContent()).toContain(
      "generated·2026-01-02T03:04:05Z",
    );
    await page.waitForTimeout(1500);
    expect(pwned).toEqual([]);
    expect(page.url()).toBe(`${server.url}/api/replays/${replayId}/diffs/s-scripted/html`);
    await page.close();
  });
});
