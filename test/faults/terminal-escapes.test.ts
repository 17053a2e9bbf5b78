/**
 * Registry text, step stderr and payloads are hostile on a terminal: an OSC sequence sets the
 * window title, CSI clears the screen, a carriage return or a bidi override rewrites a line
 * (a ✗ that reads as ✓). Every command prints them as visible escapes (src/terminal/), and
 * --json keeps the exact strings, escaped as JSON.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { contentHashOf } from "../../src/hashing/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { type CliResult, ownStderr, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { leftoversOf, readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

const OSC_TITLE = "\x1b]0;pwned\x07";
const CLEAR = "\x1b[2J";
const C1_CSI = "\u009b31m";
const RLO = "\u202e";
const ISOLATE = "\u2066";

// The hostile registry text, and how each must appear on the terminal.
const RAW = `raw${OSC_TITLE}`;
const RAW_SHOWN = "raw\\x1b]0;pwned\\x07";
const RAW_TYPE = `dataset${CLEAR}`;
const RAW_TYPE_SHOWN = "dataset\\x1b[2J";
const TITLE = `Temperatures\r✓ reproduced${RLO}`;
const TITLE_SHOWN = "Temperatures\\r✓ reproduced\\u202e";
const INGEST = `ingest\r✓`;
const INGEST_SHOWN = "ingest\\r✓";
const FETCH = `Fetch${OSC_TITLE}`;
const COPY = `copy${C1_CSI}`;
const COPY_SHOWN = "copy\\x9b31m";
const FORK = `fork${CLEAR}1`;
const FORK_SHOWN = "fork\\x1b[2J1";
const FIG = `fig${ISOLATE}x`;
const FIG_SHOWN = "fig\\u2066x";
const ODD = `odd\n  ✓ reproduced  fake`;
const ODD_SHOWN = "odd\\n  ✓ reproduced  fake";
const QUANTUM = `quantum${RLO}${CLEAR}`;
const QUANTUM_SHOWN = "quantum\\u202e\\x1b[2J";
const FAILS = `fails${OSC_TITLE}`;
const FAILS_SHOWN = "fails\\x1b]0;pwned\\x07";
const FAILED_STEP = "t\r1";
const FAILED_STEP_SHOWN = "t\\r1";

/** The raw payload holds escapes too: --diff prints its changed lines. */
const RAW_PAYLOAD = `a,b\n${OSC_TITLE},\r✓\n`;
const RAW_HASH = contentHashOf(Buffer.from(RAW_PAYLOAD));
const STDERR_SCRIPT =
  'import sys\nsys.stderr.write("\\x1b]0;stderr\\x07\\x1b[2Jall ✓ reproduced\\r\\n")\nsys.exit(1)\n';

/** Any byte a terminal interprets, but the newline. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

function expectInert(result: CliResult): void {
  expect(result.stdout).not.toMatch(RAW_CONTROL);
  expect(result.stderr).not.toMatch(RAW_CONTROL);
}

describe("registry text with terminal escapes", () => {
  let registry: TestRegistry;
  let digestBefore: string;
  const run = (args: string[]) => runCli(args, { env: registry.env, cwd: registry.dir });

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    const blobs = new BlobStore(registry.blobRoot);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, blobs);
      await f.artifact(RAW, RAW_PAYLOAD, { type: RAW_TYPE, title: TITLE, mediaType: "text/csv" });
      await f.step({ id: INGEST, target: RAW, stepType: "ingest", method: FETCH, inputHash: null });
      // A fork whose recorded output differs from its input: a mismatch, with a diff, whose one
      // changed line is the hostile one.
      await f.artifact(COPY, "a,b\n");
      await f.step({ id: FORK, source: RAW, target: COPY, stepType: "fork", method: "Copy" });
      await f.artifact(FIG, "fig\n", { type: "figure" });
      await f.step({ id: ODD, source: COPY, target: FIG, stepType: QUANTUM, method: `Magic${RLO}` });
      await f.scriptStep({
        id: FAILED_STEP,
        source: RAW,
        target: FAILS,
        payload: "x\n",
        script: STDERR_SCRIPT,
      });
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    // Printing and replaying wrote nothing back.
    expect(await registryDigest(registry)).toBe(digestBefore);
    await registry.dispose();
  });

  it("lineage shows every id, type and method as visible escapes", async () => {
    const result = await run(["lineage", FIG]);
    expectInert(result);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `${FIG_SHOWN} (figure) <- step ${ODD_SHOWN}: ${QUANTUM_SHOWN} "Magic\\u202e" [env unpinned]`,
        `${COPY_SHOWN} (dataset) <- step ${FORK_SHOWN}: fork "Copy"`,
        `${RAW_SHOWN} (${RAW_TYPE_SHOWN}) <- step ${INGEST_SHOWN}: ingest "Fetch\\u001b]0;pwned\\u0007" [frozen root: ingest]`,
        "",
      ].join("\n"),
    );
  });

  it("lineage --json keeps the exact strings, every control escaped", async () => {
    const result = await run(["lineage", FIG, "--json"]);
    expectInert(result);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"fig\\u2066x"');
    const json = JSON.parse(result.stdout) as {
      target: { id: string };
      steps: { id: string; step_type: string }[];
    };
    expect(json.target.id).toBe(FIG);
    expect(json.steps.map((s) => [s.id, s.step_type])).toEqual([
      [INGEST, "ingest"],
      [FORK, "fork"],
      [ODD, QUANTUM],
    ]);
  });

  it("step-types shows the type visibly, aligned on its visible width", async () => {
    const result = await run(["step-types"]);
    expectInert(result);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        "step_type             count  handled",
        "fork                      1  yes",
        "ingest                    1  yes",
        `${QUANTUM_SHOWN}      1  no`,
        "transform                 1  yes",
        "",
      ].join("\n"),
    );
  });

  it("show prints the artifact's and the step's text visibly", async () => {
    const result = await run(["show", RAW]);
    expectInert(result);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(`artifact ${RAW_SHOWN} (${RAW_TYPE_SHOWN})`);
    expect(lines).toContain(`  title         ${TITLE_SHOWN}`);
    expect(lines).toContain(`produced by step ${INGEST_SHOWN}`);
    expect(lines).toContain(`  method        Fetch\\x1b]0;pwned\\x07`);

    const json = await run(["show", RAW, "--json"]);
    expectInert(json);
    expect((JSON.parse(json.stdout) as { artifact: { title: string } }).artifact.title).toBe(TITLE);
  });

  it("an unknown id from argv is shown visibly in the error", async () => {
    const result = await run(["show", `nope${OSC_TITLE}${CLEAR}`]);
    expectInert(result);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("nope\\x1b]0;pwned\\x07\\x1b[2J");
  });

  it("argv quoted by the command line parser is shown visibly", async () => {
    const result = await run([`no-such${CLEAR}`]);
    expectInert(result);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: unknown command 'no-such\\x1b[2J'\n");
  });

  it("rerun --dry-run prints the plan visibly", async () => {
    const result = await run(["rerun", FIG, "--dry-run"]);
    expectInert(result);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n").slice(0, 6)).toEqual([
      `plan for ${FIG_SHOWN}: 3 of 3 step(s) would run`,
      `  1. ${INGEST_SHOWN} ingest (frozen, environment unpinned) -> ${RAW_SHOWN}`,
      `  2. ${FORK_SHOWN} fork (builtin, environment unpinned) -> ${COPY_SHOWN} after ${INGEST_SHOWN}`,
      `  3. ${ODD_SHOWN} ${QUANTUM_SHOWN} (unknown, environment unpinned) -> ${FIG_SHOWN} after ${FORK_SHOWN}`,
      "frozen inputs (1, consumed as recorded):",
      `  ${RAW_SHOWN} ${RAW_HASH}: ingested by ${INGEST_SHOWN}`,
    ]);
  });

  it("rerun prints ids, types, reasons and diff lines visibly: no line can pose as reproduced", async () => {
    const out = path.join(registry.dir, "replay-fig");
    const result = await run(["rerun", FIG, "--out", out, "--diff"]);
    expectInert(result);
    expect(result.code).toBe(1);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^replay \\S+ of ${escapeRegExp(FIG_SHOWN)}: 3 step\\(s\\) -> `));
    const stepLine = (id: string) => lines.find((l) => l.includes(` ${id} `)) ?? "";
    expect(stepLine(INGEST_SHOWN)).toMatch(/^ {2}✓ verified {5}ingest\\r✓ +ingest /);
    expect(stepLine(FORK_SHOWN)).toMatch(/^ {2}✗ mismatch {5}fork\\x1b\[2J1 +fork /);
    expect(stepLine(ODD_SHOWN)).toMatch(
      /^ {2}! unreplayable odd\\n {2}✓ reproduced {2}fake +quantum\\u202e\\x1b\[2J /,
    );
    // The diff's changed lines are the payload's: its escapes are shown, not sent.
    // The explanation under it quotes the payload's changed line as plain words: its controls
    // are dropped or become spaces (diagnose/explanation-text.ts), none reaches the terminal.
    const diffLine = lines.find((l) => l.startsWith("      diff  ")) ?? "";
    expect(diffLine).toMatch(/^ {6}diff {2}1 line differs, first "\]0;pwned , ✓"/);
    expect(lines.filter((l) => /^ {2}✓ (reproduced|verified)/.test(l))).toHaveLength(1);
    expect(ownStderr(result.stderr)).toBe("");
    const manifest = await readManifest(out);
    expect(rowOf(manifest, FORK).status).toBe("mismatch");
    expect(rowOf(manifest, ODD).status).toBe("unreplayable");
    expect(await strayFiles(out)).toEqual([]);
  });

  it("rerun shows a step's hostile stderr line visibly in its reason", async () => {
    const out = path.join(registry.dir, "replay-fails");
    const result = await run(["rerun", FAILS, "--out", out]);
    expectInert(result);
    expect(result.code).toBe(1);
    const line = result.stdout.split("\n").find((l) => l.includes(` ${FAILED_STEP_SHOWN} `)) ?? "";
    expect(line).toMatch(/^ {2}✗ failed {7}t\\r1 +transform +\d+\.\d\ds {2}/);
    expect(line).toContain("the step exited with status 1: \\x1b]0;stderr\\x07\\x1b[2Jall ✓ reproduced");
    expect(result.stdout).toContain(`of ${FAILS_SHOWN}: 2 step(s)`);
    const manifest = await readManifest(out);
    expect(rowOf(manifest, FAILED_STEP).reason).toContain("\\x1b]0;stderr\\x07");
    expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out)).toEqual([]);
    await rm(out, { recursive: true, force: true });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
