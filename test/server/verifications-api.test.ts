/**
 * POST /api/verifications and GET /api/verifications/:id: on PostgreSQL the batch is queued
 * and serve's own step worker replays it (a container step); on the embedded registry serve
 * runs it in its process. Bad bodies and ids are 400, unknown batches 404, with the reason.
 * DELETE cancels a queued batch; one that has ended, or runs in one process, is 409.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { BatchReport } from "../../src/fleet/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { apiOf, startServe, waitFor, type Api, type ServeProcess } from "./serve-process.js";

const SHOUT = `open("/out/output", "w").write(open("/in/source").read().upper())
`;

describe.each(BACKENDS)("batches over HTTP (%s)", (backend) => {
  let registry: TestRegistry;
  let server: ServeProcess;
  let api: Api;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "abc");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.scriptStep({ id: "s-up", source: "raw", target: "up", payload: "ABC", script: SHOUT });
      await f.artifact("fig", "ABC", { type: "figure" });
      await f.step({ id: "s-fig", source: "up", target: "fig", stepType: "fork" });
    });
    server = await startServe(registry);
    api = apiOf(server.url);
  }, 120_000);
  afterAll(async () => {
    await server.stop();
    await registry.dispose();
  });

  it("POST queues (PostgreSQL) or runs (embedded) the batch; GET follows it to its verdict", async () => {
    const posted = await api.request("POST", "/api/verifications", { body: { type: "figure" } });
    expect([posted.status, posted.json.queued], posted.text).toEqual([202, backend === "postgres"]);
    const id = String(posted.json.verification_id);
    expect(posted.headers.get("location")).toBe(`/api/verifications/${id}`);
    let last: Record<string, unknown> = {};
    await waitFor(
      async () => {
        last = (await api.request("GET", `/api/verifications/${id}`)).json;
        return last.status === "finished" || last.status === "failed";
      },
      "the batch's end",
      120_000,
    );
    expect([last.status, last.verdict, last.error], server.output()).toEqual([
      "finished",
      "reproduced",
      null,
    ]);
    expect(last.steps).toEqual(
      backend === "postgres" ? { total: 3, waiting: 0, queued: 0, running: 0, done: 3 } : null,
    );
    const report = JSON.parse(await readFile(String(last.report), "utf8")) as BatchReport;
    expect([report.batch_id, report.status, report.targets.map((t) => t.artifact_id)]).toEqual([
      id,
      "reproduced",
      ["fig"],
    ]);
    expect(path.dirname(String(last.report))).toBe(path.join(registry.home, "verifications", id));

    const late = await api.request("DELETE", `/api/verifications/${id}`);
    expect([late.status, late.json.code, late.json.detail]).toEqual([
      409,
      "ALREADY_FINISHED",
      `Batch ${id} has already ended (finished, reproduced); there is nothing to cancel.`,
    ]);
    expect((await api.request("DELETE", "/api/verifications/v-20260101T000000-000000")).status).toBe(404);
  }, 180_000);

  // PostgreSQL only: the rows are written beside the running serve, which the embedded registry
  // (one process) does not admit.
  if (backend === "postgres")
    it("DELETE cancels a queued batch; one running in one process is 409", async () => {
      // Rows as verify --queue and an in-process verify leave them, without jobs for serve to take.
      await registry.with(async (db) => {
        await db.query(
          `INSERT INTO replay_runner.verifications (id, trigger, selection, status, out_dir, plan)
         VALUES ('v-20261202T000000-queued', 'command', 'fig', 'queued', '/tmp/q', '{}')`,
        );
        await db.query(
          `INSERT INTO replay_runner.verifications (id, trigger, selection, status, out_dir, worker_id, worker_host, worker_pid, heartbeat_at)
         VALUES ('v-20261202T000000-inproc', 'command', 'fig', 'running', '/tmp/r', 'w-1', 'host-a', 4242, now())`,
        );
      });
      const cancelled = await api.request("DELETE", "/api/verifications/v-20261202T000000-queued");
      expect([cancelled.status, cancelled.json.status, cancelled.json.error], cancelled.text).toEqual([
        200,
        "interrupted",
        "cancelled (DELETE /api/verifications/:id)",
      ]);
      const inProcess = await api.request("DELETE", "/api/verifications/v-20261202T000000-inproc");
      expect([inProcess.status, inProcess.json.code, inProcess.json.detail]).toEqual([
        409,
        "NOT_QUEUED",
        "Batch v-20261202T000000-inproc runs in one process (pid 4242 on host host-a), not on workers; only queued batches can be cancelled.",
      ]);
    });

  it("answers 400 for a body that selects nothing or mixes options, 400/404 for bad and unknown ids", async () => {
    const none = await api.request("POST", "/api/verifications", { body: {} });
    expect([none.status, none.text]).toEqual([400, expect.stringContaining("nothing is selected")]);
    const seedless = await api.request("POST", "/api/verifications", { body: { all: true, sample: 2 } });
    expect([seedless.status, seedless.text]).toEqual([
      400,
      expect.stringContaining("sample and seed go together"),
    ]);
    const extra = await api.request("POST", "/api/verifications", { body: { all: true, jobs: 4 } });
    expect(extra.status).toBe(400);
    const unknownTarget = await api.request("POST", "/api/verifications", {
      body: { artifact_ids: ["nope"] },
    });
    expect(unknownTarget.status).toBe(404);
    expect((await api.request("GET", "/api/verifications/v-20260101T000000-000000")).status).toBe(404);
    expect((await api.request("GET", "/api/verifications/%00")).status).toBe(400);
  });
});
