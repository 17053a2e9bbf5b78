/**
 * A pipeline recorded the way a user records one: through the CLI's record commands, each
 * container step really run in the sandbox. Used by the record-then-replay tests.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { runCli, type CliResult } from "../support/run-cli.js";
import { buildTestWheel } from "../support/test-wheel.js";
import type { TestRegistry } from "../support/test-registry.js";

export const RAW_CSV = "city,temp\nOslo,3\nRome,18\nLima,15\n";

export const SCRIPTS = {
  "clean.py": `import json
limit = json.load(open("/in/params.json"))["max"]
rows = open("/in/source").read().splitlines()
out = [rows[0]] + [r for r in rows[1:] if int(r.split(",")[1]) <= limit]
open("/out/output", "w").write("\\n".join(out).upper() + "\\n")
`,
  "stats.py": `import csv, json, os, rrstats
rows = list(csv.DictReader(open("/in/table.csv")))
note = open("/in/note.txt").read().strip()
temps = [int(r["TEMP"]) for r in rows]
print("computing", file=__import__("sys").stderr)
json.dump({"mean": rrstats.mean(temps), "n": len(temps), "note": note, "epoch": os.environ["SOURCE_DATE_EPOCH"]},
          open("/out/output", "w"), sort_keys=True)
`,
  "render.py": `import json
s = json.load(open("/in/source"))
open("/out/output", "w").write(f'<svg xmlns="http://www.w3.org/2000/svg"><text>{s["mean"]:.2f} n={s["n"]}</text></svg>\\n')
`,
  "fail.py": `import sys
print("loading the table", file=sys.stderr)
print("ValueError: column 'TEMP' holds 'abc'", file=sys.stderr)
sys.exit(1)
`,
};

export interface RecordedPipeline {
  raw: string;
  note: string;
  clean: string;
  stats: string;
  figure: string;
  citation: string;
  copy: string;
  wheelhouse: string;
  dir: string;
}

/** Runs the CLI against the test registry; fails the test with its stderr when it exits non-zero. */
export async function cli(
  registry: TestRegistry,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<string> {
  const result = await run(registry, args, extraEnv);
  expect(result.code, `replay-runner ${args.join(" ")}\n${result.stderr}`).toBe(0);
  return result.stdout.trim();
}

export function run(
  registry: TestRegistry,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(args, { env: { ...registry.env, ...extraEnv }, cwd: registry.dir });
}

export async function writeScripts(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, source] of Object.entries(SCRIPTS)) await writeFile(path.join(dir, name), source);
}

export async function recordPipeline(registry: TestRegistry): Promise<RecordedPipeline> {
  const dir = path.join(registry.dir, "work");
  await writeScripts(dir);
  await writeFile(path.join(dir, "raw.csv"), RAW_CSV);
  await writeFile(path.join(dir, "note.txt"), "degrees Celsius\n");
  const wheelhouse = path.join(registry.dir, "wheelhouse");
  const wheel = await buildTestWheel(
    wheelhouse,
    "rrstats",
    "1.0",
    "def mean(xs):\n    return sum(xs) / len(xs)\n",
  );
  await writeFile(path.join(dir, "requirements.lock"), wheel.lockLine);
  const env = { REPLAY_WHEELHOUSE: wheelhouse };
  const f = (name: string) => path.join(dir, name);

  const raw = await cli(registry, [
    "add",
    f("raw.csv"),
    "--source-url",
    "https://example.org/raw.csv",
    "--id",
    "raw",
  ]);
  const note = await cli(registry, ["add", f("note.txt")]);
  const clean = await cli(registry, [
    "run",
    "transform",
    "--input",
    raw,
    "--code",
    f("clean.py"),
    "--args",
    '{"max": 16}',
  ]);
  const stats = await cli(
    registry,
    [
      "run",
      "analysis",
      "--input",
      `table.csv=${clean}`,
      "--input",
      `note.txt=${note}`,
      "--code",
      f("stats.py"),
      "--env",
      f("requirements.lock"),
    ],
    env,
  );
  const figure = await cli(registry, [
    "run",
    "render",
    "--input",
    stats,
    "--code",
    f("render.py"),
    "--no-env",
    "--media-type",
    "image/svg+xml",
  ]);
  const citation = await cli(registry, [
    "cite",
    figure,
    "--doi",
    "10.1234/rr.5",
    "--title",
    "Temperatures",
    "--author",
    "Ada",
    "--author",
    "Émile",
  ]);
  const copy = await cli(registry, ["fork", figure]);
  return { raw, note, clean, stats, figure, citation, copy, wheelhouse, dir };
}
