/**
 * Pipelining: while a step runs, the next one (with a free --jobs slot) already has its
 * container created, its script in and its image resolved; it starts the moment its inputs exist.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { CLI, cliEnv } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const COPY = `open("/out/output", "wb").write(open("/in/source", "rb").read())
`;
const SLOW_COPY = `import time
time.sleep(2)
${COPY}`;

/** States of the containers a process made, e.g. ["running", "created"]. */
function statesOf(pid: number): string[] {
  const out = execFileSync(
    "docker",
    ["ps", "-a", "--filter", `label=org.replay-runner.pid=${pid}`, "--format", "{{.State}}"],
    { encoding: "utf8" },
  );
  return out.split("\n").filter((l) => l !== "");
}

describe("pipelining", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "carried along\n");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      let source = "raw";
      for (const [id, code] of [
        ["first", SLOW_COPY],
        ["second", COPY],
        ["third", COPY],
      ] as const) {
        await f.scriptStep({ id: `s-${id}`, source, target: id, payload: "carried along\n", script: code });
        source = id;
      }
    });
  });
  afterAll(async () => {
    await registry.dispose();
  });

  /** Runs `rerun third`, sampling the engine every 50 ms; returns every sample and the manifest. */
  async function rerunSampled(
    jobs: string,
  ): Promise<{ code: number | null; samples: string[][]; manifest: Manifest }> {
    const out = path.join(registry.dir, `jobs-${jobs}`);
    const child = spawn(process.execPath, [CLI, "rerun", "third", "--jobs", jobs, "--out", out], {
      cwd: registry.dir,
      env: cliEnv(registry.env),
      stdio: "ignore",
    });
    let exited = false;
    const code = new Promise<number | null>((resolve) =>
      child.on("close", (c) => {
        exited = true;
        resolve(c);
      }),
    );
    const samples: string[][] = [];
    while (!exited) {
      // Finished containers (exited, being removed in the background) do not count.
      samples.push(
        statesOf(child.pid!)
          .filter((s) => s === "created" || s === "running")
          .sort(),
      );
      await sleep(50);
    }
    const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as Manifest;
    return { code: await code, samples, manifest };
  }

  it("creates the next step's container while the current step runs", async () => {
    const { code, samples, manifest } = await rerunSampled("2");
    expect(code).toBe(0);
    expect(manifest.steps.map((s) => [s.step_id, s.status])).toEqual([
      ["s-raw", "verified"],
      ["s-first", "reproduced"],
      ["s-second", "reproduced"],
      ["s-third", "reproduced"],
    ]);
    // During s-first's two seconds: s-first running, s-second created and waiting for its input.
    expect(samples).toContainEqual(["created", "running"]);
  });

  it("prepares nothing ahead with --jobs 1: one container at a time", async () => {
    const { code, samples } = await rerunSampled("1");
    expect(code).toBe(0);
    expect(samples.some((s) => s.includes("running"))).toBe(true);
    expect(Math.max(...samples.map((s) => s.length))).toBe(1);
  });
});
