/**
 * Every origin, not only the first: a bundle fed by three steps that each diverged on their own
 * names all three (`divergence_origins`, its `inherited_from`), and the terminal says so in words.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { readManifest } from "../faults/fault-harness.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const WRITE = (text: string) => `open("/out/output", "w").write(${JSON.stringify(text)})\n`;
const CONCAT = `import json
with open("/out/output", "w") as out:
    for name in json.load(open("/in/params.json"))["order"]:
        out.write(open("/in/" + name).read())
`;
const FAIL = `raise SystemExit("this step cannot run")\n`;

describe.each(BACKENDS)("divergence origins (%s)", (backend) => {
  let registry: TestRegistry;
  let manifest: Manifest;
  let stdout: string;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "x\n");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      // Three steps that each diverge on their own, one that reproduces.
      for (const name of ["a", "b", "c"])
        await f.scriptStep({
          id: `s-${name}`,
          source: "raw",
          target: name,
          payload: `${name} as recorded\n`,
          script: WRITE(`${name} now\n`),
        });
      await f.scriptStep({ id: "s-d", source: "raw", target: "d", payload: "d\n", script: WRITE("d\n") });
      await f.scriptStep({
        id: "s-bundle",
        target: "bundle",
        stepType: "merge",
        inputs: ["a", "b", "c", "d"].map((n) => ({ name: n, artifactId: n })),
        payload: "a as recorded\nb as recorded\nc as recorded\nd\n",
        script: CONCAT,
        parameters: { args: { order: ["a", "b", "c", "d"] } },
      });
      // Downstream of one origin only; a step failing on diverged bytes; one failing on its own.
      await f.scriptStep({
        id: "s-after-a",
        source: "a",
        target: "after-a",
        payload: "a as recorded\n",
        script: "import shutil\nshutil.copy('/in/source', '/out/output')\n",
      });
      await f.scriptStep({
        id: "s-fails-on-b",
        source: "b",
        target: "fails-on-b",
        payload: "?",
        script: FAIL,
      });
      await f.scriptStep({
        id: "s-fails-alone",
        source: "raw",
        target: "fails-alone",
        payload: "?",
        script: FAIL,
      });
      await f.scriptStep({
        id: "s-top",
        target: "top",
        stepType: "merge",
        inputs: ["bundle", "after-a", "fails-on-b", "fails-alone"].map((n) => ({ name: n, artifactId: n })),
        payload: "?",
        script: CONCAT,
        parameters: { args: { order: ["bundle", "after-a", "fails-on-b", "fails-alone"] } },
      });
    });
    const out = path.join(registry.dir, "out");
    const result = await runCli(["rerun", "top", "--out", out], { env: registry.env, cwd: registry.dir });
    expect(result.code).toBe(1);
    stdout = result.stdout;
    manifest = await readManifest(out);
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("lists every origin in topological order, the first of them as first_divergence", () => {
    const origins = manifest.divergence_origins.map((o) => o.step_id);
    const order = manifest.steps.map((s) => s.step_id);
    expect([...origins].sort()).toEqual(["s-a", "s-b", "s-c"]);
    expect(origins).toEqual(order.filter((id) => origins.includes(id)));
    expect(manifest.first_divergence).toEqual(manifest.divergence_origins[0]);
    expect(manifest.divergence_origins[0]!.reason).toMatch(
      /^replayed output hashes to sha256:[0-9a-f]{64}, the registry records sha256:/,
    );
    expect(manifest.manifest_version).toBe(2);
  });

  it("marks each row exactly: origins, what each inherited row descends from, failures", () => {
    const origins = manifest.divergence_origins.map((o) => o.step_id);
    const marks = Object.fromEntries(
      manifest.steps.map((s) => [s.step_id, [s.status, s.divergence, s.inherited_from]]),
    );
    expect(marks).toEqual({
      "s-raw": ["verified", null, []],
      "s-a": ["mismatch", "origin", []],
      "s-b": ["mismatch", "origin", []],
      "s-c": ["mismatch", "origin", []],
      "s-d": ["reproduced", null, []],
      "s-bundle": ["mismatch", "inherited", origins],
      "s-after-a": ["mismatch", "inherited", ["s-a"]],
      "s-fails-on-b": ["failed", "inherited", ["s-b"]],
      // Not an origin: a failure produced no bytes, and downstream took its recorded payload.
      "s-fails-alone": ["failed", null, []],
      // Its inputs: the bundle (a, b, c), after-a (a), and two recorded payloads of failed steps.
      "s-top": ["mismatch", "inherited", origins],
    });
    const bundle = manifest.steps.find((s) => s.step_id === "s-bundle")!;
    expect(bundle.reason).toMatch(new RegExp(` \\(inherited from ${origins.join(", ")}\\)$`));
    expect(manifest.steps.find((s) => s.step_id === "s-fails-on-b")!.reason).toBe(
      "the step exited with status 1: this step cannot run (inherited from s-b)",
    );
  });

  it("says on the terminal which rows are origins and what each inherited row descends from", () => {
    const origins = manifest.divergence_origins.map((o) => o.step_id);
    expect(stdout).toContain(`divergence origins: ${origins.join(", ")}\n`);
    const lines = stdout.split("\n").map((l) => l.replace(/\s+/g, " ").trim());
    for (const id of origins) expect(lines).toContain(`${id} origin`);
    expect(lines).toContain(`s-bundle inherited from ${origins.join(", ")}`);
    expect(lines).toContain("s-after-a inherited from s-a");
    expect(lines).toContain("s-fails-on-b failed, inherited from s-b");
    expect(lines).toContain(`s-top inherited from ${origins.join(", ")}`);
    expect(lines.some((l) => l.startsWith("s-fails-alone "))).toBe(false);
  });
});
