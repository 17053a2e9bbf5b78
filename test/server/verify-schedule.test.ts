// Runs the built CLI: `npm test` builds first; run `npm run build` before running this file alone.
/**
 * `serve --verify-every 2s`: batches of every artifact run on their own (a timer on the
 * embedded registry, a deferred pg-boss job on PostgreSQL), each target's history grows, and
 * /verifications lists the batches and, once a record changed, the artifact that stopped
 * reproducing. Fork chains only: quick, and no engine is needed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { contentHashOf } from "../../src/hashing/index.js";
import type { HistoryEntry } from "../../src/history/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { startServe, type ServeProcess } from "./serve-process.js";

async function historyOf(server: ServeProcess, id: string): Promise<HistoryEntry[]> {
  const response = await fetch(`${server.url}/api/artifacts/${encodeURIComponent(id)}/history`);
  return ((await response.json()) as { history: HistoryEntry[] }).history;
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
    expect(page).toMatch(/<td>schedule<\/td>\s*<td><span class="badge ok">reproduced<\/span><\/td>/);
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
