/**
 * rerun --triage on steps whose recorded output reproduces only by chance: each gets the right
 * verdict and `sensitive_to`, the main replay's verdicts stay those of a replay without triage,
 * and the terminal says each verdict in a sentence. Recorded payloads are made by the host's
 * python3 running the same code with another clock, seed or CPU count than the replay will see.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, open, opendir, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest, ManifestStep } from "../../src/replay/index.js";
import { readManifest } from "../faults/fault-harness.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const RAW = "a,b\n1,2\n";
const IN_CONTAINER = 'out = open("/out/output", "wb")\nsrc = open("/in/source", "rb").read()\n';
const ON_HOST = `import sys\nout = sys.stdout.buffer\nsrc = ${JSON.stringify(RAW)}.encode()\n`;

const BODIES = {
  // gzip.compress stamps the current time into the header unless given mtime=.
  gzip: (stamp: string) => `import gzip\nout.write(gzip.compress(src${stamp}))\n`,
  // A 1x1 PNG written by hand (no PIL in the base image), with a tIME chunk of the current time.
  png: (stamp: string) => `import struct, time, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
t = time.gmtime(${stamp})
out.write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
          + chunk(b"tIME", struct.pack(">HBBBBB", t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec))
          + chunk(b"IDAT", zlib.compress(b"\\x00\\x80")) + chunk(b"IEND", b""))
`,
  random: () => `import random\nout.write(f"{random.random()}\\n".encode())\n`,
  cpus: () => `import os\nout.write(f"{len(os.sched_getaffinity(0))} CPUs\\n".encode())\n`,
  listing: () => `import os\nout.write(("\\n".join(os.listdir("/in")) + "\\n").encode())\n`,
  upper: () => `out.write(src.upper())\n`,
  set: () => `words = {${Array.from({ length: 24 }, (_, i) => `"word-${i}"`).join(", ")}}
out.write(("\\n".join(w for w in words) + "\\n").encode())
`,
};

function onHost(body: string, env: Record<string, string> = {}): Buffer {
  return execFileSync("python3", ["-c", ON_HOST + body], { env: { PATH: process.env.PATH, ...env } });
}

/** How this filesystem lists these names (ext4: name-hash order, whatever the creation order). */
async function listingHere(dir: string, names: string[]): Promise<string[]> {
  const probe = await mkdtemp(path.join(dir, "probe-"));
  try {
    for (const n of names) await (await open(path.join(probe, n), "wx")).close();
    const listed: string[] = [];
    for await (const entry of await opendir(probe)) listed.push(entry.name);
    return listed;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

function rowsById(manifest: Manifest): Map<string, ManifestStep> {
  return new Map(manifest.steps.map((s) => [s.step_id, s]));
}

describe("rerun --triage", () => {
  let registry: TestRegistry;
  let triaged: Manifest;
  let plain: Manifest;
  let latent: Manifest;
  let terminal: string;

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    const listed = await listingHere(registry.dir, ["source", "params.json"]);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      const step = (id: string, script: string, payload: Buffer | string) =>
        f.scriptStep({ id, source: "raw", target: id.slice(2), payload, script: IN_CONTAINER + script });
      await step("s-gzip", BODIES.gzip(""), onHost(BODIES.gzip(", mtime=1600000000")));
      await step("s-png", BODIES.png(""), onHost(BODIES.png("1600000000")));
      await step("s-random", BODIES.random(), "0.5\n");
      await step("s-cpus", BODIES.cpus(), "8 CPUs\n");
      // Recorded where /in listed the other way round.
      await step("s-listing", BODIES.listing(), `${[...listed].reverse().join("\n")}\n`);
      // Deterministic, but the recorded payload is a slightly different file.
      await step("s-drift", BODIES.upper(), RAW.toUpperCase().replace("1,2", "1,3"));
      const parts = ["gzip", "png", "random", "cpus", "listing", "drift"];
      await f.scriptStep({
        id: "s-bundle",
        target: "bundle",
        stepType: "merge",
        inputs: parts.map((n) => ({ name: n, artifactId: n })),
        payload: "recorded bundle",
        script:
          IN_CONTAINER +
          "import os\nfor n in sorted(os.listdir('/in')):\n    out.write(open('/in/' + n, 'rb').read())\n",
      });
      // Reproduces under the pinned PYTHONHASHSEED=0; another seed orders the set otherwise.
      await step("s-set", BODIES.set(), onHost(BODIES.set(), { PYTHONHASHSEED: "0" }));
    });
    const rerun = async (args: string[], name: string) => {
      const out = path.join(registry.dir, name);
      const result = await runCli(["rerun", ...args, "--out", out], { env: registry.env, cwd: registry.dir });
      return { result, manifest: await readManifest(out) };
    };
    const withTriage = await rerun(["bundle", "--triage"], "triaged");
    expect(withTriage.result.code).toBe(1);
    triaged = withTriage.manifest;
    terminal = withTriage.result.stdout;
    plain = (await rerun(["bundle"], "plain")).manifest;
    const all = await rerun(["set", "--triage=all"], "latent");
    expect(all.result.code).toBe(0);
    latent = all.manifest;
  }, 900_000);
  afterAll(async () => {
    await registry.dispose();
  });

  it("gives each origin its verdict and what it is sensitive to", () => {
    const verdicts = Object.fromEntries(
      triaged.steps.map((s) => [
        s.step_id,
        s.triage === null ? null : [s.triage.verdict, s.triage.sensitive_to],
      ]),
    );
    expect(verdicts).toEqual({
      "s-raw": null,
      "s-gzip": ["environment-sensitive", ["clock"]],
      "s-png": ["environment-sensitive", ["clock"]],
      "s-random": ["nondeterministic", []],
      "s-cpus": ["environment-sensitive", ["cpus"]],
      "s-listing": ["environment-sensitive", ["order"]],
      "s-drift": ["drift", []],
      // Inherited from the six: never triaged.
      "s-bundle": null,
    });
    expect(triaged.summary.triage).toEqual({
      triaged: 6,
      nondeterministic: 1,
      "environment-sensitive": 4,
      drift: 1,
      deterministic: 0,
      inconclusive: 0,
    });
    expect(triaged.options).toMatchObject({ triage: "origins", repeat: 2 });
  });

  it("runs the main replay, two repeats and one run per variation, on the frozen clock but the clock's", () => {
    const gzip = rowsById(triaged).get("s-gzip")!.triage!;
    expect(gzip.runs.map((r) => r.variation)).toEqual([
      "replay",
      "repeat",
      "repeat",
      "clock",
      "cpus",
      "order",
      "hash-seed",
      "timezone",
      "umask",
      "hostname",
      "kernel",
    ]);
    expect(gzip.not_applied).toEqual([]);
    expect(gzip.clock).toBe(
      "every repeat and variation but the clock ran with the wall clock frozen at 2026-01-02T03:04:05.000Z (libfaketime)",
    );
    const [replay, r1, r2, clock, ...others] = gzip.runs;
    // Repeats agree with each other (one frozen second), not with the real clock or the shifted one.
    expect(r1!.output_hash).toBe(r2!.output_hash);
    expect(new Set([replay!.output_hash, r1!.output_hash, clock!.output_hash]).size).toBe(3);
    for (const run of others) expect(run.output_hash).toBe(r1!.output_hash);
    expect(clock!.detail).toMatch(/^clock \+(\d+) days$/);
    const days = Number(/\+(\d+)/.exec(clock!.detail)![1]);
    expect(days).toBeGreaterThanOrEqual(180);
    expect(days).toBeLessThanOrEqual(540);
  });

  it("explains each verdict, naming what replay-runner could still check for the drift", () => {
    const rows = rowsById(triaged);
    expect(rows.get("s-random")!.triage!.explanation).toBe("3 replays gave 3 different outputs");
    expect(rows.get("s-cpus")!.triage!.explanation).toBe(
      `the output changes with 1 CPU of ${
        rows
          .get("s-cpus")!
          .triage!.runs.find((r) => r.variation === "cpus")!
          .detail.split(" of ")[1]
      }; 2 repeats under identical conditions agreed`,
    );
    expect(rows.get("s-gzip")!.triage!.explanation).toMatch(
      /^the output changes with clock \+\d+ days; 2 repeats under identical conditions agreed$/,
    );
    const codeHash = (triaged.steps
      .find((s) => s.step_id === "s-drift")!
      .triage!.explanation.match(/code_hash (sha256:[0-9a-f]{64})/) ?? [])[1];
    expect(rows.get("s-drift")!.triage!.explanation).toBe(
      `11 replays under 8 variations gave the same bytes, not the recorded ones: the step is deterministic here, so the record came from other code, inputs or environment; its inputs hash to the recorded input_hash; its script hashes to the recorded code_hash ${codeHash}; no image id was recorded with its output; no earlier replay reproduced it`,
    );
  });

  it("says each verdict on the terminal in a sentence", () => {
    const lines = terminal.split("\n").map((l) => l.trim());
    expect(lines).toContain("triage: 1 nondeterministic, 4 environment-sensitive, 1 drift of 6 step(s)");
    expect(lines).toContain("s-random  nondeterministic: 3 replays gave 3 different outputs");
    expect(
      lines.some((l) =>
        /^s-listing {2}environment-sensitive: the output changes with \/in listed in reverse order;/.test(l),
      ),
    ).toBe(true);
    expect(
      lines.some((l) => l.startsWith("s-drift  drift: 11 replays under 8 variations gave the same bytes")),
    ).toBe(true);
  });

  it("leaves the main replay's verdicts exactly as without --triage", () => {
    const strip = (m: Manifest) =>
      m.steps.map((s) => ({
        step_id: s.step_id,
        status: s.status,
        ok: s.ok,
        divergence: s.divergence,
        inherited_from: s.inherited_from,
      }));
    expect(strip(triaged)).toEqual(strip(plain));
    // Deterministic steps give the same bytes in both replays; the others differ by nature.
    for (const id of ["s-raw", "s-cpus", "s-listing", "s-drift"])
      expect(rowsById(triaged).get(id)!.output_hash_replayed).toBe(
        rowsById(plain).get(id)!.output_hash_replayed,
      );
    expect(plain.steps.every((s) => s.triage === null)).toBe(true);
    expect(plain.summary.triage).toBeUndefined();
    expect(plain.options).toMatchObject({ triage: "off" });
  });

  it("with --triage=all, reports a set iterated in hash order as a latent hash-seed sensitivity", () => {
    const set = rowsById(latent).get("s-set")!;
    expect([set.status, set.ok]).toEqual(["reproduced", true]);
    expect(set.triage).toMatchObject({
      verdict: "environment-sensitive",
      latent: true,
      sensitive_to: ["hash-seed"],
    });
    expect(set.triage!.explanation).toBe(
      "it reproduced under the contract's conditions, but the output changes with PYTHONHASHSEED=1 instead of 0; 2 repeats under identical conditions agreed",
    );
    expect(latent.summary.triage).toMatchObject({ triaged: 1, "environment-sensitive": 1 });
  });
});
