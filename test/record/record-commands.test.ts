/** The record commands one by one: what they print, what they refuse, and that a failure records nothing. */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { run, writeScripts } from "./cli-pipeline.js";
import { runCli } from "../support/run-cli.js";

const TABLES = ["artifacts", "processing_steps", "processing_step_inputs", "environments"] as const;

describe("record commands (embedded)", () => {
  let registry: TestRegistry;
  let scripts: string;
  let dataset: string;

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    scripts = path.join(registry.dir, "scripts");
    await writeScripts(scripts);
    await writeFile(path.join(registry.dir, "data.csv"), "city,temp\nOslo,3\n");
    const added = await run(registry, [
      "add",
      "data.csv",
      "--title",
      "Cities",
      "--source-url",
      "https://example.org/c.csv",
    ]);
    expect(added.code, added.stderr).toBe(0);
    dataset = added.stdout.trim();
  });
  afterAll(async () => {
    await registry.dispose();
  });

  async function counts(): Promise<Record<string, number>> {
    return registry.with(async (db) => {
      const out: Record<string, number> = {};
      for (const t of TABLES) {
        const [row] = await db.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${t}`);
        out[t] = row!.n;
      }
      return out;
    });
  }

  it("add prints only the new id on stdout and says what it recorded on stderr", async () => {
    expect(dataset).toMatch(/^art-[0-9a-f]{12}$/);
    const again = await run(registry, ["add", "data.csv", "--id", "cities-2024"]);
    expect(again.stdout).toBe("cities-2024\n");
    expect(again.stderr).toMatch(
      /recorded cities-2024 \(dataset, 17 bytes, sha256:[0-9a-f]{12}…\) by ingest step step-[0-9a-f]{12}/,
    );
  });

  it("add creates the embedded registry in an empty folder", async () => {
    const fresh = await createTestRegistry("embedded");
    try {
      const home = path.join(fresh.dir, "elsewhere");
      const result = await runCli(["add", path.join(registry.dir, "data.csv")], {
        env: { REPLAY_HOME: home },
        cwd: fresh.dir,
      });
      expect(result.code, result.stderr).toBe(0);
      const shown = await runCli(["show", result.stdout.trim()], {
        env: { REPLAY_HOME: home },
        cwd: fresh.dir,
      });
      expect(shown.code, shown.stderr).toBe(0);
    } finally {
      await fresh.dispose();
    }
  });

  it("show prints the artifact, its producing step and its payload's state", async () => {
    const text = await run(registry, ["show", dataset]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`artifact ${dataset} (dataset)`);
    expect(text.stdout).toMatch(/title\s+Cities/);
    expect(text.stdout).toMatch(/media_type\s+text\/csv/);
    expect(text.stdout).toMatch(/payload\s+\S+\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64} \(intact\)/);
    expect(text.stdout).toMatch(/step_type\s+ingest/);
    expect(text.stdout).toMatch(/input_hash\s+NULL/);

    const json = await run(registry, ["show", dataset, "--json"]);
    const parsed = JSON.parse(json.stdout) as {
      artifact: { id: string; size_bytes: number };
      payload: { path: string; state: string };
      produced_by: { step_type: string; parameters: unknown; inputs: unknown[] }[];
    };
    expect(parsed.artifact).toMatchObject({ id: dataset, size_bytes: 17 });
    expect(parsed.payload.state).toBe("intact");
    expect(await readFile(parsed.payload.path, "utf8")).toBe("city,temp\nOslo,3\n");
    expect(parsed.produced_by).toMatchObject([
      { step_type: "ingest", parameters: { source_url: "https://example.org/c.csv" }, inputs: [] },
    ]);
  });

  it("show exits 2 for an unknown id and 5 when the payload is missing", async () => {
    const unknown = await run(registry, ["show", "art-000000000000"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("There is no artifact art-000000000000");
    const blobs = path.join(registry.dir, "empty-blobs");
    const missing = await run(registry, ["show", dataset], { REPLAY_BLOBS: blobs });
    expect(missing.code).toBe(5);
    expect(missing.stdout).toContain("MISSING from the blob store");
  });

  it("fork and cite record built-in steps", async () => {
    const fork = await run(registry, ["fork", dataset, "--title", "Copy"]);
    expect(fork.code, fork.stderr).toBe(0);
    const cite = await run(registry, ["cite", dataset, "--doi", "10.5281/zenodo.1", "--title", "Cities"]);
    expect(cite.code, cite.stderr).toBe(0);
    const shown = JSON.parse((await run(registry, ["show", cite.stdout.trim(), "--json"])).stdout) as {
      artifact: { artifact_type: string; media_type: string };
      produced_by: { step_type: string; input_hash: string; parameters: unknown }[];
    };
    expect(shown.artifact).toMatchObject({ artifact_type: "citation", media_type: "application/json" });
    expect(shown.produced_by[0]).toMatchObject({
      step_type: "cite",
      parameters: { doi: "10.5281/zenodo.1", title: "Cities" },
    });
  });

  it("rejects bad --input names, unknown inputs and bad options with exit 2, recording nothing", async () => {
    const before = await counts();
    const code = path.join(scripts, "clean.py");
    const cases: [string[], RegExp][] = [
      [["run", "merge", "--input", `a/b=${dataset}`, "--code", code], /--input name "a\/b" is not allowed/],
      [
        ["run", "merge", "--input", `params.json=${dataset}`, "--code", code],
        /reserved for \/in\/params\.json/,
      ],
      [["run", "merge", "--input", `..=${dataset}`, "--code", code], /is not allowed/],
      [["run", "merge", "--input", `a=${dataset}`, "--input", `a=${dataset}`, "--code", code], /given twice/],
      [["run", "merge", "--input", `a=${dataset}`, "--input", dataset, "--code", code], /has no name/],
      [["run", "merge", "--input", dataset, "--code", code], /merge step reads named inputs/],
      [["run", "transform", "--code", code], /needs at least one --input/],
      [["run", "transform", "--input", "art-000000000000", "--code", code], /no artifact art-000000000000/],
      [
        ["run", "transform", "--input", dataset, "--code", code, "--args", "{nope"],
        /--args is not valid JSON/,
      ],
      [
        ["run", "transform", "--input", dataset, "--code", code, "--timeout", "-1"],
        /--timeout must be positive/,
      ],
      [["run", "ingest", "--input", dataset, "--code", code], /`run` records container steps/],
      [["add", "data.csv", "--id", "no spaces"], /--id must be/],
      [["add", "data.csv", "--id", dataset], /already exists/],
      [["cite", dataset, "--doi", "doi.org/10.1/x", "--title", "t"], /--doi must be a DOI/],
    ];
    for (const [args, message] of cases) {
      const result = await run(registry, args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/hint: /);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    }
    expect(await counts()).toEqual(before);
  });

  it("a failing run records nothing and exits 1 with the end of the script's stderr", async () => {
    const before = await counts();
    const result = await run(registry, [
      "run",
      "transform",
      "--input",
      dataset,
      "--code",
      path.join(scripts, "fail.py"),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("The transform step failed: the step exited with status 1:");
    expect(result.stderr).toContain("ValueError: column 'TEMP' holds 'abc'");
    expect(result.stderr).toMatch(/hint: Fix fail\.py/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(await counts()).toEqual(before);
  });
});
