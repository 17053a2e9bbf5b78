/**
 * No error inside a replay takes `serve` down. An environments row with an empty base_image
 * used to crash the server on the first POST (dockerode followed the engine's 301 to the host
 * "images": an uncaught getaddrinfo ENOTFOUND, and cli.ts's last line of defence exited 70);
 * the retried job crashed it again after each restart. Now such a row is a failed step, and
 * any error that escapes a replay (an uncaught exception, an unhandled rejection) fails that
 * replay, with the reason, while the server goes on.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { RAW, seedServedChain } from "./served-chain.js";
import {
  apiOf,
  startServe,
  waitFor,
  waitForReplay,
  type ReplayStatus,
  type ServeProcess,
} from "./serve-process.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const VITE_NODE = path.resolve(here, "../../node_modules/vite-node/vite-node.mjs");
const VITEST_CONFIG = path.resolve(here, "../../vitest.config.ts");
const ENDED: ReplayStatus[] = ["finished", "failed", "interrupted"];
const COPY = 'open("/out/output", "wb").write(open("/in/source", "rb").read())\n';

describe.each(BACKENDS)("errors inside a replay (%s)", (backend) => {
  let registry: TestRegistry;
  let emptyEnv: string;
  const servers: ServeProcess[] = [];

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await seedServedChain(registry);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      f.hashes.set(
        "raw",
        (await db.query<{ h: string }>("SELECT content_hash AS h FROM artifacts WHERE id = 'raw'"))[0]!.h,
      );
      emptyEnv = await f.environment("", "none", "");
      await f.scriptStep({
        id: "s-bad",
        source: "raw",
        target: "bad",
        payload: RAW,
        script: COPY,
        envHash: emptyEnv,
      });
    });
  });
  afterAll(async () => {
    for (const s of servers) await s.kill();
    await registry.dispose();
  });

  it("an empty base_image: the POST is answered, the server stays up, the step fails with the reason; the next replay succeeds", async () => {
    const server = await startServe(registry);
    servers.push(server);
    const api = apiOf(server.url);
    const queued = await api.request("POST", "/api/artifacts/bad/rerun", { body: {} });
    expect(queued.status).toBe(202);
    const done = await waitForReplay(api, String(queued.json.replay_id), ENDED);
    // It ran to its end: finished, not reproduced, the bad step failed with what is wrong.
    expect(done).toMatchObject({ status: "finished", verdict: "not_reproduced", error: null });
    const steps = (done.manifest as { steps: { step_id: string; status: string; reason: string | null }[] })
      .steps;
    expect(steps.map((s) => [s.step_id, s.status, s.reason])).toEqual([
      ["s-raw", "verified", null],
      [
        "s-bad",
        "failed",
        `step s-bad: environment ${emptyEnv}: base_image "" is not an image reference: it is empty (a repository name needs at least one component)`,
      ],
    ]);
    expect(server.child.exitCode).toBeNull();
    expect((await api.request("GET", "/")).status).toBe(200);

    const good = await api.request("POST", "/api/artifacts/upper/rerun", { body: {} });
    expect(await waitForReplay(api, String(good.json.replay_id), ENDED)).toMatchObject({
      status: "finished",
      verdict: "reproduced",
    });
    expect(server.output()).not.toMatch(/ENOTFOUND|Unexpected error/);
    expect(await server.stop()).toBe(0);
  });

  it("an error that escapes a replay fails that replay with the reason, once; the server goes on and the next replay succeeds", async () => {
    const server = await startServe(
      registry,
      {},
      { argv: [VITE_NODE, "--config", VITEST_CONFIG, path.join(here, "fixtures/crashing-server.ts")] },
    );
    servers.push(server);
    const api = apiOf(server.url);
    const crashed = await api.request("POST", "/api/artifacts/upper/rerun", { body: {} });
    const crashedId = String(crashed.json.replay_id);
    const failed = await waitForReplay(api, crashedId, ENDED);
    // The first error that escaped is the reason (the rejection comes before the timer fires).
    expect(failed).toMatchObject({
      status: "failed",
      verdict: null,
      attempts: 1,
      error: {
        code: "INTERNAL",
        message: "internal error: the replay crashed: boom: a rejection nobody handles",
      },
    });
    // Both are logged with their stacks, as this replay's (the timer's 10 ms later: the failed
    // row is recorded at the first error, so the second may still be on its way).
    await waitFor(
      () => server.output().includes("boom: thrown from a timer inside the replay"),
      "the timer's crash",
    );
    for (const what of ["a rejection nobody handles", "thrown from a timer inside the replay"]) {
      expect(server.output()).toMatch(
        new RegExp(
          `replay ${crashedId}: crashed; aborted and recorded failed; the server goes on:\\nError: boom: ${what}\\n +at `,
        ),
      );
    }
    expect(server.output()).not.toContain("crashed: Error");
    expect(server.child.exitCode).toBeNull();

    const next = await api.request("POST", "/api/artifacts/upper/rerun", { body: {} });
    expect(String(next.json.replay_id)).not.toBe(crashedId);
    expect(await waitForReplay(api, String(next.json.replay_id), ENDED)).toMatchObject({
      status: "finished",
      verdict: "reproduced",
    });
    // Still failed, not run again: the job ended when the replay did.
    expect((await api.request("GET", `/api/replays/${crashedId}`)).json).toMatchObject({
      status: "failed",
      attempts: 1,
    });
  });
});
