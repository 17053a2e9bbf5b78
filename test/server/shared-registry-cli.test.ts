/**
 * The CLI while `replay-runner serve` holds the embedded registry (issue 12, item 15): PGlite
 * admits one process, and commands used to fail with "in use by process N" (exit 3). Now they
 * go through serve's socket and print exactly what they print without it; a record command
 * works too; and a command whose serve goes away mid-way exits 3 saying so.
 */
// Runs the built CLI: `npm test` builds first; run `npm run build` before running this file alone.
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownStderr, runCli, type CliResult } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { seedServedChain } from "./served-chain.js";
import { apiOf, startServe, waitFor, type ServeProcess } from "./serve-process.js";

/** What differs between two replays of one chain: their ids, timings and --out folders. */
function comparable(result: CliResult, outDir: string): Omit<CliResult, "pid" | "signal"> {
  const normal = (text: string) =>
    text
      .replaceAll(outDir, "OUT")
      .replace(/r-\d{8}T\d{6}-[0-9a-f]{6}/g, "r-ID")
      .replace(/\d+\.\d\ds/g, "T");
  return { code: result.code, stdout: normal(result.stdout), stderr: normal(ownStderr(result.stderr)) };
}

describe("CLI commands while serve holds the embedded registry", () => {
  let registry: TestRegistry;
  let serve: ServeProcess | undefined;
  const cli = (args: string[]) => runCli(args, { env: registry.env, cwd: registry.dir });
  const READS = [["show", "upper"], ["lineage", "upper"], ["step-types"], ["show", "upper", "--json"]];

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await seedServedChain(registry, { slowSeconds: 8 });
  });
  afterAll(async () => {
    await serve?.kill();
    await registry.dispose();
  });

  it("show, lineage, step-types and rerun, all at once, print exactly what they print without serve", async () => {
    // Without serve, one at a time: the embedded registry admits one process.
    const alone: CliResult[] = [];
    for (const args of READS) alone.push(await cli(args));
    const rerunAlone = await cli(["rerun", "upper", "--out", "out-alone"]);
    expect(alone.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(alone[2]?.stdout).toBe(
      "step_type  count  handled\ningest         1  yes\ntransform      3  yes\n",
    );
    expect(rerunAlone.code, rerunAlone.stderr).toBe(0);

    serve = await startServe(registry);
    const [served, rerunServed] = await Promise.all([
      Promise.all(READS.map(async (args) => cli(args))),
      cli(["rerun", "upper", "--out", "out-served"]),
    ]);
    const strip = ({ code, stdout, stderr }: CliResult) => ({ code, stdout, stderr });
    expect(served.map(strip)).toEqual(alone.map(strip));
    expect(comparable(rerunServed, "out-served")).toEqual(comparable(rerunAlone, "out-alone"));
    expect(rerunServed.stdout).toMatch(/^REPRODUCED: 1 reproduced, 1 verified of 2 step\(s\) in /m);

    // The replay's row went through serve: its API lists it, finished.
    const replayId = /replay (r-\S+) of upper/.exec(rerunServed.stdout)?.[1];
    const listed = await apiOf(serve.url).request("GET", "/api/artifacts/upper");
    const replays = listed.json.replays as {
      replay_id?: string;
      id?: string;
      status: string;
      verdict: string;
    }[];
    const row = replays.find((r) => (r.replay_id ?? r.id) === replayId);
    expect(row?.status).toBe("finished");
    expect(row?.verdict).toBe("reproduced");
  });

  it("records with add through serve, and the new artifact is served at once", async () => {
    expect(serve).toBeDefined();
    const running = serve as ServeProcess;
    const csv = "city,t\nOslo,4\n";
    await writeFile(path.join(registry.dir, "data.csv"), csv);
    const added = await cli(["add", "data.csv", "--source-url", "https://example.org/data.csv"]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^art-[0-9a-f]{12}\n$/);
    const id = added.stdout.trim();
    const hex = createHash("sha256").update(csv).digest("hex");
    expect(added.stderr).toMatch(
      new RegExp(
        `^recorded ${id} \\(dataset, 14 bytes, sha256:${hex.slice(0, 12)}…\\) by ingest step step-[0-9a-f]{12}\n$`,
      ),
    );
    const shown = await cli(["show", id, "--json"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as { artifact: { id: string } }).artifact.id).toBe(id);
    const api = await apiOf(running.url).request("GET", `/api/artifacts/${id}`);
    expect(api.status).toBe(200);
  });

  it("a CLI replay through serve outlives serve's sweeps: its row is judged by its pid, not taken for dead", async () => {
    expect(serve).toBeDefined();
    const running = serve as ServeProcess;
    // serve sweeps for dead owners every 10 s; two replays of the 8 s step span more than one sweep.
    const started = Date.now();
    const results: CliResult[] = [];
    while (Date.now() - started < 12_000)
      results.push(await cli(["rerun", "slow", "--out", `out-swept-${results.length}`]));
    expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
    const listed = await apiOf(running.url).request("GET", "/api/artifacts/slow");
    const statuses = ((listed.json.replays ?? []) as { status: string; verdict: string | null }[]).map(
      (r) => [r.status, r.verdict],
    );
    expect(statuses).toEqual(results.map(() => ["finished", "reproduced"]));
    expect(running.output()).not.toContain("interrupted");
  }, 120_000);

  it("exits 3 saying what happened when serve goes away under a running command", async () => {
    expect(serve).toBeDefined();
    const running = serve as ServeProcess;
    const api = apiOf(running.url);
    const slow = cli(["rerun", "slow", "--out", "out-slow"]);
    // The CLI's replay row (written through serve) says it runs: kill serve without warning.
    await waitFor(async () => {
      const r = await api.request("GET", "/api/artifacts/slow");
      return ((r.json.replays ?? []) as { status: string }[]).some((x) => x.status === "running");
    }, "the CLI's replay of slow to start");
    const pid = running.child.pid ?? 0;
    await running.kill();
    const result = await slow;
    expect(result.code).toBe(3);
    expect(ownStderr(result.stderr)).toBe(
      [
        `error: The embedded registry ${registry.embeddedDir} is shared by replay-runner serve (pid ${pid}), which stopped answering while this command ran (it was stopped, or it crashed).`,
        "hint: Nothing of an unfinished transaction was kept. Run the command again: it goes through serve while one runs, and opens the registry itself otherwise.",
        "",
      ].join("\n"),
    );
    // Without serve the same command opens the registry itself again.
    const after = await cli(["step-types"]);
    expect(after.code, after.stderr).toBe(0);
  });

  it("says what to do when a command, not serve, holds the registry", async () => {
    // This test process holds it, as a long `add` or `rerun` would.
    const holder = await registry.open();
    try {
      const result = await cli(["step-types"]);
      expect(result.code).toBe(3);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        [
          `error: The embedded registry ${registry.embeddedDir} is in use by process ${process.pid}.`,
          "hint: The embedded registry admits one process at a time: run this command again when that one has finished. While `replay-runner serve` runs, commands go through it instead; for several processes at once, use PostgreSQL (DATABASE_URL).",
          "",
        ].join("\n"),
      );
    } finally {
      await holder.close();
    }
  });
});
