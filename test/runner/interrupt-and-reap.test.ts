/** Nothing is left in the engine after SIGINT, and stale resources of dead processes are reaped. */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BASE_IMAGE } from "../../src/images/index.js";
import { LABEL, containerSpec, labelFilter, reapStale, resourceLabels } from "../../src/runner/index.js";
import { engine } from "./step-fixture.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const VITE_NODE = path.resolve(here, "../../node_modules/vite-node/vite-node.mjs");

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("cleanup", () => {
  it("removes the run's containers and volumes when the process gets SIGINT", async () => {
    const runId = `sigint-${randomBytes(4).toString("hex")}`;
    const filter = [labelFilter(LABEL.run, runId)];
    const child = spawn(process.execPath, [VITE_NODE, path.join(here, "fixtures/long-step.ts"), runId], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) =>
      child.on("close", (code) => {
        resolve(code);
      }),
    );
    try {
      await until(async () => (await engine.listContainers(filter)).length > 0, 60_000);
      expect((await engine.listVolumes(filter)).length).toBe(4);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
    } finally {
      child.kill("SIGKILL");
    }
    expect(stderr).toMatch(/SIGINT: removing the containers of run/);
    expect(await engine.listContainers(filter)).toEqual([]);
    expect(await engine.listVolumes(filter)).toEqual([]);
  });

  it("reaps containers and volumes whose process is gone, and keeps those of live processes", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const runId = `reap-${randomBytes(4).toString("hex")}`;
    const spec = (pid: number) =>
      containerSpec({
        image: BASE_IMAGE,
        command: ["true"],
        env: {},
        memoryBytes: 64 * 2 ** 20,
        maxOutputBytes: 1024,
        labels: resourceLabels({ runId, stepId: "s" }, pid),
      });
    const stale = await engine.createContainer(spec(dead));
    const live = await engine.createContainer(spec(process.pid));
    try {
      const reaped = await reapStale(engine);
      expect(reaped.containers).toContain(stale);
      expect(reaped.containers).not.toContain(live);
      const left = await engine.listContainers([labelFilter(LABEL.run, runId)]);
      expect(left.map((c) => c.id)).toEqual([live]);
      expect(
        await engine.listVolumes([labelFilter(LABEL.run, runId), labelFilter(LABEL.pid, String(dead))]),
      ).toEqual([]);
    } finally {
      await engine.removeContainer(stale);
      await engine.removeContainer(live);
    }
    expect(await engine.listVolumes([labelFilter(LABEL.run, runId)])).toEqual([]);
  });
});
