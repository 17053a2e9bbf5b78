/**
 * What `verify` selects: named artifacts, --all, --type, --recorded-since, a reproducible
 * --sample, a --max-steps budget that names what it left out; and bad selections refused with
 * exit 2 and a message that says what is wrong. Fork chains only: no engine is needed.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { BatchReport } from "../../src/fleet/index.js";
import { sampleIds } from "../../src/fleet/index.js";
import { readManifest } from "../support/manifest-schema.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";

/** raw -> mid -> fig-0..fig-5 (forks); `old` is a dataset recorded long ago. */
async function build(registry: TestRegistry): Promise<void> {
  await registry.with(async (db) => {
    const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
    await f.artifact("raw", "rows\n");
    await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
    await f.artifact("mid", "rows\n");
    await f.step({ id: "s-mid", source: "raw", target: "mid", stepType: "fork" });
    for (let i = 0; i < 6; i++) {
      await f.artifact(`fig-${i}`, "rows\n", { type: "figure" });
      await f.step({ id: `s-fig-${i}`, source: "mid", target: `fig-${i}`, stepType: "fork" });
    }
    await f.artifact("old", "old rows\n");
    await f.step({ id: "s-old", target: "old", stepType: "ingest", inputHash: null });
    await db.query(`UPDATE artifacts SET created_at = '2020-01-01T00:00:00Z' WHERE id = 'old'`);
  });
}

describe.each(BACKENDS)("verify selections (%s)", (backend) => {
  let registry: TestRegistry;
  let n = 0;
  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await build(registry);
  }, 60_000);
  afterAll(async () => {
    await registry.dispose();
  });

  async function verify(...args: string[]) {
    const out = path.join(registry.dir, `out-${n++}`);
    const result = await runCli(["verify", ...args, "--out", out, "--json"], {
      env: registry.env,
      cwd: registry.dir,
    });
    const report =
      result.code === 0 || result.code === 1
        ? (JSON.parse(await readFile(path.join(out, "batch.json"), "utf8")) as BatchReport)
        : undefined;
    return { ...result, report, out };
  }
  const ids = (report: BatchReport | undefined) => report?.targets.map((t) => t.artifact_id);

  it("named artifacts, --all, --type and --recorded-since", async () => {
    const named = await verify("fig-1", "fig-0");
    expect(named.code).toBe(0);
    expect(ids(named.report)).toEqual(["fig-0", "fig-1"]);
    expect(named.report?.steps.map((s) => [s.step_id, s.targets])).toEqual([
      ["s-raw", 2],
      ["s-mid", 2],
      ["s-fig-0", 1],
      ["s-fig-1", 1],
    ]);
    const manifest = await readManifest(path.join(named.out, "targets", "fig-0"));
    expect(manifest.target.artifact_id).toBe("fig-0");
    expect(manifest.steps.map((s) => [s.step_id, s.status])).toEqual([
      ["s-raw", "verified"],
      ["s-mid", "reproduced"],
      ["s-fig-0", "reproduced"],
    ]);

    const all = await verify("--all");
    expect(all.code).toBe(0);
    expect(ids(all.report)).toEqual([
      "fig-0",
      "fig-1",
      "fig-2",
      "fig-3",
      "fig-4",
      "fig-5",
      "mid",
      "old",
      "raw",
    ]);
    expect(all.report?.summary).toEqual({
      targets: 9,
      reproduced: 9,
      not_reproduced: 0,
      left_out: 0,
      unreplayable: 0,
      steps: 9,
    });

    expect(ids((await verify("--type", "figure")).report)).toEqual([
      "fig-0",
      "fig-1",
      "fig-2",
      "fig-3",
      "fig-4",
      "fig-5",
    ]);
    expect(ids((await verify("--all", "--recorded-since", "2021-01-01")).report)).not.toContain("old");
    expect(ids((await verify("old", "raw", "--recorded-since", "2021-01-01")).report)).toEqual(["raw"]);
  }, 120_000);

  it("every finished batch adds to each target's history", async () => {
    const first = await verify("fig-0", "fig-1");
    const second = await verify("fig-0");
    const history = await runCli(["history", "fig-0", "--json"], { env: registry.env, cwd: registry.dir });
    expect(history.code).toBe(0);
    const entries = (
      JSON.parse(history.stdout) as { history: { run_id: string; run_kind: string; verdict: string }[] }
    ).history;
    const ours = entries.filter((e) => [first.report?.batch_id, second.report?.batch_id].includes(e.run_id));
    expect(ours.map((e) => [e.run_id, e.run_kind, e.verdict])).toEqual([
      [second.report?.batch_id, "batch", "reproduced"],
      [first.report?.batch_id, "batch", "reproduced"],
    ]);
  }, 60_000);

  it("--sample N --seed S picks the same sample every time", async () => {
    const first = await verify("--type", "figure", "--sample", "3", "--seed", "nightly");
    const again = await verify("--type", "figure", "--sample", "3", "--seed", "nightly");
    expect(first.code).toBe(0);
    const figures = ["fig-0", "fig-1", "fig-2", "fig-3", "fig-4", "fig-5"];
    expect(ids(first.report)).toEqual(sampleIds(figures, 3, "nightly"));
    expect(ids(again.report)).toEqual(ids(first.report));
    expect(ids(first.report)).toHaveLength(3);
  }, 60_000);

  it("--max-steps stops planning at the budget and names the targets left out", async () => {
    // fig-0 alone is 3 steps; fig-1 adds 1 (4); fig-2 would make 5.
    const result = await verify("fig-0", "fig-1", "fig-2", "fig-3", "--max-steps", "4");
    expect(result.code).toBe(1);
    expect(ids(result.report)).toEqual(["fig-0", "fig-1"]);
    expect(result.report?.left_out).toEqual([
      { artifact_id: "fig-2", steps: 3 },
      { artifact_id: "fig-3", steps: 3 },
    ]);
    expect(result.report?.status).toBe("not_reproduced");
    expect(result.report?.summary.left_out).toBe(2);
  }, 60_000);

  it("a target whose rows do not form a chain is unreplayable; the others are still verified", async () => {
    // `broken` is produced from an artifact no row holds: rerun of it alone is exit 4.
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("broken", "rows\n", { type: "figure" });
      await f.step({ id: "s-broken", source: "ghost", target: "broken", stepType: "fork", inputHash: null });
    });
    try {
      const alone = await runCli(["rerun", "broken", "--out", path.join(registry.dir, `out-${n++}`)], {
        env: registry.env,
        cwd: registry.dir,
      });
      expect(alone.code).toBe(4);
      const result = await verify("fig-0", "broken", "fig-1");
      expect(result.code).toBe(1);
      expect(ids(result.report)).toEqual(["fig-0", "fig-1"]);
      expect(result.report?.targets.map((t) => t.status)).toEqual(["reproduced", "reproduced"]);
      // The reason is the message rerun of it alone gives (between "error: " and its hint).
      const message = alone.stderr.slice("error: ".length, alone.stderr.indexOf("\nhint: "));
      expect(message).toContain("ghost");
      expect(result.report?.unreplayable).toEqual([{ artifact_id: "broken", reason: message }]);
      expect(result.report?.summary).toMatchObject({ targets: 2, reproduced: 2, unreplayable: 1 });
      expect(result.report?.status).toBe("not_reproduced");
      // The one selected target being broken is rerun's error and exit code.
      const only = await verify("broken");
      expect(only.code).toBe(4);
      expect(only.stderr.split("\n")[0]).toBe(alone.stderr.split("\n")[0]);
    } finally {
      await registry.with(async (db) => {
        await db.query(`DELETE FROM processing_steps WHERE id = 's-broken'`);
        await db.query(`DELETE FROM artifacts WHERE id = 'broken'`);
      });
    }
  }, 60_000);

  it.each([
    [["nope", "fig-0"], "error: There is no artifact nope in the registry."],
    [
      ["--type", "table"],
      'error: The selection is empty: every artifact of type "table" matched no artifact.',
    ],
    [
      ["--all", "--recorded-since", "2026-02-30"],
      "error: --recorded-since must be a date (2026-12-01) or an ISO 8601 time",
    ],
    [["--all", "--sample", "2"], "error: --sample needs --seed: the seed makes the sample reproducible."],
    [["--all", "--seed", "x"], "error: --seed chooses a --sample; it does nothing alone."],
    [["fig-0", "--all"], "error: Name artifacts or give --all, not both."],
    [[], "error: Nothing is selected: name artifacts, or give --all, --type or --recorded-since."],
    [
      ["fig-0", "--max-steps", "2"],
      "error: --max-steps 2 leaves nothing to verify: the first target, fig-0, alone has 3 step(s).",
    ],
    [["--all", "--sample", "0", "--seed", "x"], "error: --sample must be at least 1"],
  ])(
    "refuses %j with exit 2",
    async (args, message) => {
      const result = await verify(...args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr.split("\n")[0]).toContain(message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
    },
    60_000,
  );
});
