/**
 * diffoscope runs on hostile bytes, so its container is a step's, by construction: the diff goes
 * through the runner's StepExecutor, whose create body is containerSpec's (no network, read-only
 * root, uid 65534, no capabilities, pids, memory and file-size limits), with both payloads
 * read-only under /in. Checked on the body a real engine received, and on what it ran.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DIFF_LIMITS, DIFFOSCOPE_IMAGE, DiffoscopeDiffer } from "../../src/diagnose/index.js";
import {
  DockerStepExecutor,
  PIDS_LIMIT,
  STEP_USER,
  StagingRoot,
  connectDockerEngine,
  containerSpec,
  resourceLabels,
  type ContainerCreateBody,
  type DockerEngine,
} from "../../src/runner/index.js";
import { diffoscopeTool } from "./diffoscope-tool.js";
import { JSON_RECORDED } from "./science-payloads.js";

describe("the diff's sandbox", () => {
  let dir: string;
  let staging: StagingRoot;
  const bodies: ContainerCreateBody[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "rr-diff-sandbox-"));
    staging = new StagingRoot(path.join(dir, "staging"));
  });
  afterAll(async () => {
    await staging.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** The real engine, with every create body kept. */
  function recordingEngine(): DockerEngine {
    const engine = connectDockerEngine({});
    return new Proxy(engine, {
      get(target, key, receiver) {
        if (key === "createContainer") {
          return (body: ContainerCreateBody) => {
            bodies.push(body);
            return target.createContainer(body);
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  }

  it("is a step's container, hardened the same, with both payloads read-only under /in", async () => {
    const engine = recordingEngine();
    await using executor = new DockerStepExecutor({ engine, staging });
    const differ = new DiffoscopeDiffer({ engine, executor });
    const recorded = path.join(dir, "recorded.json");
    const replayed = path.join(dir, "replayed.json");
    await writeFile(recorded, JSON_RECORDED);
    await writeFile(replayed, JSON_RECORDED.replace("2025-05-20", "2026-01-02"));
    const report = await differ.diff({
      runId: "r-sandbox-test",
      stepId: "s-json",
      label: "summary.json",
      recordedFile: recorded,
      replayedFile: replayed,
      scratchFile: path.join(dir, "packed.tar"),
    });
    expect(report).toMatchObject({
      tool: await diffoscopeTool(),
      explanation: 'JSON: key "run_at" differs',
      warnings: [],
    });

    expect(bodies).toHaveLength(1);
    const body = bodies[0]!;
    const image = await engine.inspectImage(DIFFOSCOPE_IMAGE);
    // Exactly the body a step with these inputs gets: one function makes both.
    const binds = body.HostConfig.Mounts.flatMap((m) =>
      m.Type === "bind" ? [{ source: m.Source, target: m.Target, readOnly: m.ReadOnly }] : [],
    );
    expect(body).toEqual(
      containerSpec({
        image: image!.id,
        command: ["sh", "/code/diffoscope-report.sh", "recorded", "replayed"],
        env: body.Env.reduce<Record<string, string>>((env, kv) => {
          const at = kv.indexOf("=");
          return { ...env, [kv.slice(0, at)]: kv.slice(at + 1) };
        }, {}),
        memoryBytes: DEFAULT_DIFF_LIMITS.memoryBytes,
        maxOutputBytes: DEFAULT_DIFF_LIMITS.scratchBytes,
        labels: resourceLabels({ runId: "r-sandbox-test", stepId: "diff:s-json" }),
        binds,
      }),
    );
    expect(body).toMatchObject({ NetworkDisabled: true, User: STEP_USER, Image: image!.id });
    expect(body.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      PidsLimit: PIDS_LIMIT,
      Memory: DEFAULT_DIFF_LIMITS.memoryBytes,
      MemorySwap: DEFAULT_DIFF_LIMITS.memoryBytes,
      Privileged: false,
    });
    expect(body.HostConfig.Ulimits).toContainEqual({
      Name: "fsize",
      Soft: DEFAULT_DIFF_LIMITS.scratchBytes + 1,
      Hard: DEFAULT_DIFF_LIMITS.scratchBytes + 1,
    });
    expect(binds.filter((b) => b.target === "/in" || b.target === "/code")).toEqual([
      expect.objectContaining({ target: "/in", readOnly: true }),
      expect.objectContaining({ target: "/code", readOnly: true }),
    ]);
    // Only the limits, nothing of the host's environment.
    expect(body.Env.map((kv) => kv.split("=")[0]).sort()).toEqual([
      "RR_BLOCK_LINES",
      "RR_DEPTH",
      "RR_REPORT_BYTES",
      "RR_TIMEOUT_S",
      "RR_WALL_S",
    ]);
  });

  it("cuts a report over its bound, and says so in the file, in the row and in a warning", async () => {
    const engine = connectDockerEngine({});
    await using executor = new DockerStepExecutor({ engine, staging });
    const bound = 4096;
    const differ = new DiffoscopeDiffer({ engine, executor, limits: { reportBytes: bound } });
    // 2000 lines, every one different: each report is far past 4 KiB.
    const recorded = path.join(dir, "many-a.txt");
    const replayed = path.join(dir, "many-b.txt");
    await writeFile(recorded, Array.from({ length: 2000 }, (_, i) => `row ${i} recorded\n`).join(""));
    await writeFile(replayed, Array.from({ length: 2000 }, (_, i) => `row ${i} replayed\n`).join(""));
    const report = await differ.diff({
      runId: "r-sandbox-test",
      stepId: "s-many",
      label: "many.txt",
      recordedFile: recorded,
      replayedFile: replayed,
      scratchFile: path.join(dir, "packed-many.tar"),
    });
    const note = `replay-runner cut this report at ${bound} bytes: the rest is not shown.`;
    expect(report).toMatchObject({ tool: await diffoscopeTool(), truncated: true, warnings: [] });
    // From what the cut JSON still holds (the recorded side's lines come first), and says so.
    expect(report.explanation).toMatch(/^\d{2,3} lines differ, first "row 0 recorded" \(report cut\)$/);
    expect(report.text.endsWith(`\n[${note}]\n`)).toBe(true);
    expect(Buffer.byteLength(report.text)).toBeLessThanOrEqual(bound + note.length + 4);
    expect(report.html?.endsWith(`<hr><p><strong>${note}</strong></p>\n`)).toBe(true);
    // The JSON is cut too, then repaired into JSON that says so.
    const json = JSON.parse(report.json!) as Record<string, unknown>;
    expect(Object.keys(json)[0]).toBe("replay-runner");
    expect(json["replay-runner"]).toEqual({ truncated: true, limit_bytes: bound, note });
    expect(json["diffoscope-json-version"]).toBe(1);
  });
});
