/**
 * Explanations name the nested member and, in it, what differs: a figure inside a gzipped tar
 * (file(1) calls an SVG an image, so diffoscope shows a hexdump, which the explanation reads back
 * as lines), and a key inside a JSON object. Files built here, diffoscope run in the sandbox.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiffoscopeDiffer } from "../../src/diagnose/index.js";
import { DockerStepExecutor, StagingRoot, connectDockerEngine } from "../../src/runner/index.js";
import { svgFigure } from "./science-payloads.js";

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0) }, content);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  return gzipSync(Buffer.concat(parts));
}

describe("explanations of nested differences", () => {
  let dir: string;
  let staging: StagingRoot;
  let executor: DockerStepExecutor;
  let differ: DiffoscopeDiffer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "rr-nested-"));
    staging = new StagingRoot(path.join(dir, "staging"));
    const engine = connectDockerEngine({});
    executor = new DockerStepExecutor({ engine, staging });
    differ = new DiffoscopeDiffer({ engine, executor });
  });
  afterAll(async () => {
    await executor.settled();
    await staging.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function explain(name: string, recorded: Buffer | string, replayed: Buffer | string) {
    const a = path.join(dir, `${name}.recorded`);
    const b = path.join(dir, `${name}.replayed`);
    await writeFile(a, recorded);
    await writeFile(b, replayed);
    const report = await differ.diff({
      runId: "r-nested-test",
      stepId: `s-${name}`,
      label: name,
      recordedFile: a,
      replayedFile: b,
      scratchFile: path.join(dir, `${name}.tar`),
    });
    expect(report.warnings).toEqual([]);
    return report.explanation;
  }

  it("names the member of a .tar.gz, and counts the SVG's lines from diffoscope's hexdump", async () => {
    const csv = "station,temp\nOslo,3\n";
    const explanation = await explain(
      "figures.tar.gz",
      await tarGz({ "figure.svg": svgFigure("2025-05-20T00:00:00Z"), "data.csv": csv }),
      await tarGz({ "figure.svg": svgFigure("2026-01-02T03:04:05Z"), "data.csv": csv }),
    );
    expect(explanation).toBe('figure.svg: 3 lines differ, first "<!-- generated 2026-01-02T03:04:05Z -->"');
  });

  it("names a key inside a JSON object by its path", async () => {
    const doc = (seed: number) => `${JSON.stringify({ params: { seed, n: 3 }, run: "a" }, null, 1)}\n`;
    expect(await explain("params.json", doc(1), doc(2))).toBe('JSON: key "params.seed" differs');
  });
});
