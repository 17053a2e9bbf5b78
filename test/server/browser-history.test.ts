// Runs the built CLI: `npm test` builds first; run `npm run build` before running this file alone.
/**
 * The reproducibility history in Chromium: an artifact verified by a batch (reproduced), then,
 * its record changed, replayed by rerun (not reproduced). The artifact page shows both as a
 * timeline, the API and `history` return them newest first, and the badge (parsed as XML by
 * Chromium's DOMParser) goes grey, green, red, its ETag following the content_hash and verdict.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { HistoryEntry } from "../../src/history/index.js";
import { contentHashOf } from "../../src/hashing/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { RAW, seedServedChain } from "./served-chain.js";
import { startServe, type ServeProcess } from "./serve-process.js";

const RESULTS = path.resolve("test-results");
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"];
/** An id that tries markup, quotes and a control character XML cannot hold. */
const HOSTILE = `fig"<b>&'\u0001`;
const DAY = /\d{4}-\d{2}-\d{2}/.source;

interface Badge {
  status: number;
  etag: string | null;
  cacheControl: string | null;
  type: string | null;
  /** What DOMParser made of it: the parse error, or the badge's texts and title. */
  parsed: { error: string | null; texts: string[]; title: string | null; fill: string | null };
}

/** Runs in the page (plain JS: the test's TypeScript has no DOM types): fetch, then DOMParser. */
const BADGE_IN_PAGE = `async ({ url, ifNoneMatch }) => {
  const response = await fetch(url, {
    cache: "no-store",
    headers: ifNoneMatch === undefined ? {} : { "If-None-Match": ifNoneMatch },
  });
  const text = await response.text();
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const error = response.status === 200 ? (doc.querySelector("parsererror")?.textContent ?? null) : null;
  return {
    status: response.status,
    etag: response.headers.get("etag"),
    cacheControl: response.headers.get("cache-control"),
    type: response.headers.get("content-type"),
    parsed: {
      error,
      texts: [...doc.querySelectorAll("text")].map((t) => t.textContent ?? ""),
      title: doc.querySelector("title")?.textContent ?? null,
      fill: doc.querySelectorAll("rect")[1]?.getAttribute("fill") ?? null,
    },
  };
}`;

async function badge(page: Page, url: string, ifNoneMatch?: string): Promise<Badge> {
  return page.evaluate<Badge>(`(${BADGE_IN_PAGE})(${JSON.stringify({ url, ifNoneMatch })})`);
}

describe("history and badges in Chromium", () => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(RESULTS, { recursive: true });
    registry = await createTestRegistry("postgres");
    await seedServedChain(registry);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      f.hashes.set("raw", contentHashOf(Buffer.from(RAW))); // recorded by seedServedChain
      await f.artifact(HOSTILE, RAW, { type: "figure" });
      await f.step({ id: "s-hostile", source: "raw", target: HOSTILE, stepType: "fork" });
    });
    server = await startServe(registry);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  }, 120_000);
  afterAll(async () => {
    await browser.close();
    await server.stop();
    await registry.dispose();
  });

  it("shows the timeline after two runs, and the badge follows the verdict", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/artifacts/upper`);
    expect(await page.locator("#history-empty").textContent()).toBe("Never verified.");
    const upperHash = await registry.with(
      async (db) =>
        (await db.query<{ content_hash: string }>(`SELECT content_hash FROM artifacts WHERE id = 'upper'`))[0]
          ?.content_hash,
    );

    const never = await badge(page, `${server.url}/badges/upper.svg`);
    expect(never).toMatchObject({ status: 200, type: "image/svg+xml; charset=utf-8" });
    expect(never.parsed).toEqual({
      error: null,
      texts: ["replay", "never verified"],
      title: "upper: never verified",
      fill: "#6b7280",
    });
    expect(never.etag).toBe(`"${upperHash}-never"`);
    expect(never.cacheControl).toBe("public, max-age=60, must-revalidate");

    // 1: a batch verifies it.
    const verified = await runCli(["verify", "upper", "--out", path.join(registry.dir, "batch")], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(verified.code).toBe(0);
    const batchId = /^verify (v-\S+) of 1 target\(s\)/m.exec(verified.stdout)?.[1];
    expect(batchId).toMatch(/^v-/);
    const green = await badge(page, `${server.url}/badges/upper.svg`);
    expect(green.parsed.error).toBeNull();
    expect(green.parsed.texts[1]).toMatch(new RegExp(`^reproduced · ${DAY}$`));
    expect(green.parsed.fill).toBe("#2e7d32");
    expect(green.etag).toBe(`"${upperHash}-reproduced-${batchId}"`);
    expect((await badge(page, `${server.url}/badges/upper.svg`, green.etag ?? "")).status).toBe(304);

    // 2: the record now says other bytes; rerun does not reproduce them.
    const changed = "A,B\n1,3\n";
    await registry.with(async (db) => {
      await new RegistryFixture(db, new BlobStore(registry.blobRoot)).blob(changed);
      await db.query(`UPDATE artifacts SET content_hash = $1 WHERE id = 'upper'`, [
        contentHashOf(Buffer.from(changed)),
      ]);
    });
    const rerun = await runCli(["rerun", "upper", "--out", path.join(registry.dir, "rerun")], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(rerun.code).toBe(1);
    const red = await badge(page, `${server.url}/badges/upper.svg`, green.etag ?? "");
    expect(red.status).toBe(200);
    expect(red.parsed).toMatchObject({ error: null, texts: ["replay", "not reproduced"], fill: "#c62828" });
    expect(red.etag).toMatch(new RegExp(`^"${contentHashOf(Buffer.from(changed))}-not_reproduced-r-`));

    // The timeline, newest first, in words.
    await page.goto(`${server.url}/artifacts/upper`);
    const items = await page.locator("#history-timeline li .sentence").allTextContents();
    expect(items).toHaveLength(2);
    expect(items[0]).toMatch(new RegExp(`^not reproduced on ${DAY}: s-upper diverged$`));
    expect(items[1]).toMatch(new RegExp(`^reproduced on ${DAY} with replay-base:bookworm$`));
    const verdicts = await Promise.all(
      (await page.locator("#history-timeline li").all()).map((li) => li.getAttribute("data-verdict")),
    );
    expect(verdicts).toEqual(["not_reproduced", "reproduced"]);
    await page.screenshot({ path: path.join(RESULTS, "artifact-history.png"), fullPage: true });

    // The API and the command say the same.
    const api = (await (await fetch(`${server.url}/api/artifacts/upper/history`)).json()) as {
      history: HistoryEntry[];
    };
    expect(api.history.map((e) => [e.run_kind, e.verdict, e.origins.map((o) => o.step_id)])).toEqual([
      ["replay", "not_reproduced", ["s-upper"]],
      ["batch", "reproduced", []],
    ]);
    expect(api.history[1]?.run_id).toBe(batchId);
    expect(api.history[1]?.images.map((i) => i.step_id)).toEqual(["s-upper"]);
    const cli = await runCli(["history", "upper", "--json"], { env: registry.env, cwd: registry.dir });
    expect(cli.code).toBe(0);
    expect((JSON.parse(cli.stdout) as { history: HistoryEntry[] }).history).toEqual(api.history);
    const text = await runCli(["history", "upper"], { env: registry.env, cwd: registry.dir });
    expect(text.stdout.split("\n")[0]).toBe("upper: 2 verification(s), newest first");
    expect(text.stdout).toMatch(new RegExp(`not reproduced on ${DAY}: s-upper diverged`));
    await page.close();
  }, 300_000);

  it("escapes the id in the badge and refuses unknown artifacts", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const hostile = await badge(page, `${server.url}/badges/${encodeURIComponent(HOSTILE)}.svg`);
    expect(hostile.status).toBe(200);
    expect(hostile.parsed.error).toBeNull();
    expect(hostile.parsed.title).toBe(`fig"<b>&'\uFFFD: never verified`);
    expect((await badge(page, `${server.url}/badges/nope.svg`)).status).toBe(404);
    expect((await badge(page, `${server.url}/badges/upper.png`)).status).toBe(400);
    // An artifact only upstream of a verified target was not itself verified.
    const raw = await runCli(["history", "raw"], { env: registry.env, cwd: registry.dir });
    expect(raw).toMatchObject({ code: 0, stdout: "raw: never verified\n" });
    const missing = await runCli(["history", "nope"], { env: registry.env, cwd: registry.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr.split("\n")[0]).toBe("error: There is no artifact nope in the registry.");
    await page.close();
  }, 120_000);
});
