/**
 * Issue 12, item 1: two artifacts whose ids once mapped to one file in <out>/artifacts/ (`a/b`
 * was named `a_b-<12 hex of its SHA-256>`, itself a legal id that named itself). The later
 * upstream step overwrote the earlier one's payload, and a merge downstream read the wrong
 * bytes while its input-hash check passed on the hashes it was told: a false REPRODUCED.
 * Now every id has a file of its own, and a step reads what its own upstream steps wrote.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { contentHashOf, sha256Hex } from "../../src/hashing/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { ownStderr, runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { leftoversOf, readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

const SLASHED = "a/b";
/** What `a/b` was named before: a plain id, so it was also its own name. */
const LOOKALIKE = `a_b-${sha256Hex(SLASHED).slice(0, 12)}`;
const DOI = "10.1234/collide";
/** The citation of any payload: `{"cites":"sha256:<64 hex>","doi":...}` and a newline. */
const citationOf = (payload: string) =>
  `${JSON.stringify({ cites: contentHashOf(Buffer.from(payload)), doi: DOI })}\n`;
/**
 * As long as its citation: a payload read from the wrong file then has the size it should have,
 * and only its bytes differ (a size that differs would be caught for another reason).
 */
const RAW = "first input".padEnd(citationOf("").length - 1, ".") + "\n";
const MERGE = 'open("/out/output", "wb").write(open("/in/x", "rb").read() + open("/in/y", "rb").read())\n';

describe.each(BACKENDS)("artifact ids that collided as file names (%s)", (backend) => {
  let registry: TestRegistry;
  let citation: string;
  let digestBefore: string;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", RAW);
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      // `a/b`: a fork of raw (its bytes). LOOKALIKE: a citation of `a/b`, so it runs after it.
      await f.artifact(SLASHED, RAW);
      await f.step({ id: "s-fork", source: "raw", target: SLASHED, stepType: "fork" });
      citation = citationOf(RAW);
      expect(citation.length).toBe(RAW.length);
      await f.artifact(LOOKALIKE, citation);
      await f.step({
        id: "s-cite",
        source: SLASHED,
        target: LOOKALIKE,
        stepType: "cite",
        parameters: { doi: DOI },
      });
      const inputs = [
        { name: "x", artifactId: SLASHED },
        { name: "y", artifactId: LOOKALIKE },
      ];
      const code = await f.blob(MERGE);
      // The truth: x is a/b's bytes, y the citation.
      await f.artifact("merged-right", RAW + citation);
      await f.step({
        id: "s-merge-right",
        target: "merged-right",
        stepType: "merge",
        inputs,
        parameters: { code_hash: code },
      });
      // What a merge fed the citation twice writes: the old false green.
      await f.artifact("merged-wrong", citation + citation);
      await f.step({
        id: "s-merge-wrong",
        target: "merged-wrong",
        stepType: "merge",
        inputs,
        parameters: { code_hash: code },
      });
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    await registry.dispose();
  });

  const rerun = async (target: string) => {
    const out = path.join(registry.dir, `out-${target}`);
    const result = await runCli(["rerun", target, "--out", out, "--json"], {
      env: registry.env,
      cwd: registry.dir,
    });
    expect(ownStderr(result.stderr)).toBe("");
    expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
    return { result, out, manifest: await readManifest(out) };
  };

  it("gives each artifact its own file, and reproduces the merge of the right inputs", async () => {
    const { result, out, manifest } = await rerun("merged-right");
    expect(manifest.status).toBe("reproduced");
    expect(result.code).toBe(0);
    const fork = rowOf(manifest, "s-fork");
    const cite = rowOf(manifest, "s-cite");
    // `a/b` is named by its full SHA-256 after a `=` that no plain id contains.
    expect(fork.payload).toBe(`artifacts/a_b=${sha256Hex(SLASHED)}`);
    expect(cite.payload).toBe(`artifacts/${LOOKALIKE}`);
    expect(await readFile(path.join(out, fork.payload ?? ""), "utf8")).toBe(RAW);
    expect(await readFile(path.join(out, cite.payload ?? ""), "utf8")).toBe(citation);
    expect(rowOf(manifest, "s-merge-right")).toMatchObject({
      ok: true,
      status: "reproduced",
      output_hash_replayed: contentHashOf(Buffer.from(RAW + citation)),
      reason: null,
    });
  });

  it("does not reproduce a merge recorded from the wrong bytes", async () => {
    const { result, manifest } = await rerun("merged-wrong");
    expect(manifest.status).toBe("not_reproduced");
    expect(result.code).toBe(1);
    expect(rowOf(manifest, "s-merge-wrong")).toMatchObject({
      ok: false,
      status: "mismatch",
      output_hash_replayed: contentHashOf(Buffer.from(RAW + citation)),
      reason: `replayed output hashes to ${contentHashOf(Buffer.from(RAW + citation))}, the registry records ${contentHashOf(Buffer.from(citation + citation))}`,
    });
    expect(manifest.first_divergence?.step_id).toBe("s-merge-wrong");
  });
});
