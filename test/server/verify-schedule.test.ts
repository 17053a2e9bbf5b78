// Runs the built CLI: `npm test` builds first; run `npm run build` before running this file alone.
/**
 * `serve --verify-every 2s`: batches of every artifact run on their own (a timer on the
 * embedded registry, a deferred pg-boss job on PostgreSQL), each target's history grows, and
 * /verifications lists the batches and, once a record changed, the artifact that stopped
 * reproducing. `--verify-selection` narrows each batch to verify's selection, and on
 * PostgreSQL replaces the job a server of another schedule left waiting. Fork chains only:
 * quick, and no engine is needed.
 */
import { access, readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { BatchReport } from "../../src/fleet/index.js";
import { sampleIds } from "../../src/fleet/index.js";
import { contentHashOf } from "../../src/hashing/index.js";
import type { HistoryEntry } from "../../src/history/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { startServe, type ServeProcess } from "./serve-process.js";

async function historyOf(server: ServeProcess, id: string): Promise<HistoryEntry[]> {
  const response = await fetch(`${server.url}/api/artifacts/${encodeURIComponent(id)}/history`);
  return ((await response.json()) as { history: HistoryEntry[] }).history;
}

const TABLES = ["tab-0", "tab-1", "tab-2", "tab-3"];

/** The finished batches under <home>/verifications (batch.json is written when one ends). */
async function finishedBatches(home: string): Promise<Map<string, BatchReport>> {
  const dir = path.join(home, "verifications");
  const batches = new Map<string, BatchReport>();
  for (const id of await readdir(dir).catch(() => [])) {
    const file = path.join(dir, id, "batch.json");
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      batches.set(id, JSON.parse(await readFile(file, "utf8")) as BatchReport);
  }
  return batches;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(BACKENDS)("serve --verify-every (%s)", (backend) => {
  let registry: TestRegistry;
  let server: ServeProcess | undefined;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "rows\n");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      for (const id of ["fig-0", "fig-1"]) {
        await f.artifact(id, "rows\n", { type: "figure" });
        await f.step({ id: `s-${id}`, source: "raw", target: id, stepType: "fork" });
      }
      for (const id of TABLES) {
        await f.artifact(id, "rows\n", { type: "table" });
        await f.step({ id: `s-${id}`, source: "raw", target: id, stepType: "fork" });
      }
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await registry.dispose();
  });

  it("verifies on schedule, records the history and lists what stopped reproducing", async () => {
    server = await startServe(registry, {}, { args: ["--verify-every", "2s"] });
    const running = server;
    // Two scheduled batches, one after the other.
    const two = await waitFor("two scheduled batches", async () => {
      const h = await historyOf(running, "fig-1");
      return h.length >= 2 ? h : undefined;
    });
    expect(two.slice(0, 2).map((e) => [e.run_kind, e.verdict])).toEqual([
      ["batch", "reproduced"],
      ["batch", "reproduced"],
    ]);
    expect(new Set(two.map((e) => e.run_id)).size).toBe(two.length);
    const page = await (await fetch(`${running.url}/verifications`)).text();
    expect(page).toContain('id="stopped-empty"');
    for (const e of two) expect(page).toContain(`data-batch="${e.run_id}"`);
    expect(page).toMatch(
      /<td>schedule<\/td>\s*<td class="selection">every artifact<\/td>\s*<td><span class="badge ok">reproduced<\/span><\/td>/,
    );
    expect(await running.stop()).toBe(0);

    // The record of fig-1 now says other bytes: the next scheduled batch does not reproduce it.
    await registry.with(async (db) => {
      await new RegistryFixture(db, new BlobStore(registry.blobRoot)).blob("other rows\n");
      await db.query(`UPDATE artifacts SET content_hash = $1 WHERE id = 'fig-1'`, [
        contentHashOf(Buffer.from("other rows\n")),
      ]);
    });
    server = await startServe(registry, {}, { args: ["--verify-every", "2s"] });
    const again = server;
    const broken = await waitFor("a batch that does not reproduce fig-1", async () => {
      const latest = (await historyOf(again, "fig-1"))[0];
      return latest?.verdict === "not_reproduced" ? latest : undefined;
    });
    expect(broken.run_kind).toBe("batch");
    const after = await (await fetch(`${again.url}/verifications`)).text();
    const stopped = /<ul id="stopped">([\s\S]*?)<\/ul>/.exec(after)?.[1] ?? "";
    expect([...stopped.matchAll(/data-artifact="([^"]+)"/g)].map((m) => m[1])).toEqual(["fig-1"]);
    expect(stopped).toContain(broken.run_id);
    expect((await historyOf(again, "fig-0"))[0]?.verdict).toBe("reproduced");
  }, 240_000);

  it("verifies exactly --verify-selection's targets, replacing a waiting job of another schedule", async () => {
    await server?.stop();
    // A server of another schedule leaves its next job waiting an hour (on PostgreSQL).
    server = await startServe(registry, {}, { args: ["--verify-every", "1h"] });
    expect(await server.stop()).toBe(0);
    const before = new Set((await finishedBatches(registry.home)).keys());

    server = await startServe(
      registry,
      {},
      {
        args: ["--verify-every", "2s", "--verify-selection", "--type table --sample 2 --seed 'night ly'"],
      },
    );
    const running = server;
    const batches = await waitFor("two scheduled batches of the selection", async () => {
      const all = [...(await finishedBatches(registry.home))].filter(([id]) => !before.has(id));
      return all.length >= 2 ? all : undefined;
    });
    const expected = sampleIds(TABLES, 2, "night ly");
    const selection = 'every artifact of type "table", a sample of 2 (seed "night ly")';
    for (const [id, report] of batches) {
      expect(report.batch_id).toBe(id);
      expect(report.selection).toBe(selection);
      expect(report.targets.map((t) => [t.artifact_id, t.status])).toEqual(
        expected.map((a) => [a, "reproduced"]),
      );
    }
    const ids = new Set(batches.map(([id]) => id));
    for (const artifact of ["raw", "fig-0", "fig-1", ...TABLES]) {
      const entries = (await historyOf(running, artifact)).filter((e) => ids.has(e.run_id));
      expect([artifact, entries.length]).toEqual([artifact, expected.includes(artifact) ? ids.size : 0]);
    }
    // The verifications row (listed on the page) says the same selection.
    const page = await (await fetch(`${running.url}/verifications`)).text();
    for (const id of ids) {
      expect(page).toMatch(
        new RegExp(
          `<tr data-batch="${id}">[\\s\\S]*?<td>schedule</td>\\s*<td class="selection">every artifact of type &quot;table&quot;, a sample of 2 \\(seed &quot;night ly&quot;\\)</td>`,
        ),
      );
    }
    const log = running.output();
    expect(log).toContain(`verifying ${selection} every 2 s`);
    // Without the replacement, pg-boss would keep the 1 h job waiting and no batch would run.
    expect(log.includes("replaced the waiting scheduled verification")).toBe(backend === "postgres");
    expect(await running.stop()).toBe(0);
  }, 240_000);

  it.each([
    [
      "--type table --sample 2",
      "error: --verify-selection: --sample needs --seed: the seed makes the sample reproducible.",
    ],
    ["--type table --sample two --seed s", "error: --verify-selection: --sample must be a whole number"],
    [
      "--type table --out d",
      "error: --verify-selection: unknown option '--out'; it takes artifact ids, --all, --type, --recorded-since, --sample, --seed, --max-steps.",
    ],
    ["--type 'table", "error: --verify-selection: a ' quote is not closed."],
    [
      "--sample 2 --seed s",
      "error: --verify-selection: Nothing is selected: name artifacts, or give --all, --type or --recorded-since.",
    ],
  ])(
    "refuses --verify-selection %j with exit 2",
    async (words, message) => {
      const { runCli } = await import("../support/run-cli.js");
      const result = await runCli(
        ["serve", "--port", "0", "--verify-every", "2s", "--verify-selection", words],
        {
          env: registry.env,
          cwd: registry.dir,
        },
      );
      expect(result.code).toBe(2);
      expect(result.stderr.split("\n")[0]).toBe(message);
    },
    60_000,
  );

  it("refuses --verify-selection without --verify-every", async () => {
    const { runCli } = await import("../support/run-cli.js");
    const result = await runCli(["serve", "--port", "0", "--verify-selection", "--all"], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n").slice(0, 2)).toEqual([
      "error: --verify-selection needs --verify-every: it says what the schedule verifies.",
      'hint: Add --verify-every 7d (or 30s, 15m, 12h), e.g. `replay-runner serve --verify-every 7d --verify-selection "--type figure"`.',
    ]);
  }, 60_000);

  it("refuses a duration it cannot read", async () => {
    const { runCli } = await import("../support/run-cli.js");
    const result = await runCli(["serve", "--port", "0", "--verify-every", "7 days"], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "error: --verify-every takes a whole number and a unit: 30s, 15m, 12h, 7d",
    );
  }, 60_000);
});
