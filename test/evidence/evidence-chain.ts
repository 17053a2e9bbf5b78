/**
 * The chain an auditor asks about: ingest → transform → analysis in a pinned pip environment →
 * render → cite, recorded the way production records it, every step reproducible. Expected
 * payloads are computed here, independently of the scripts (science-pipeline.ts's scripts).
 */
import path from "node:path";
import { BlobStore } from "../../src/blobs/index.js";
import { canonicalJson } from "../../src/hashing/index.js";
import { RAW_CSV, SCRIPTS, expected } from "../replay/science-pipeline.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { buildTestWheel } from "../support/test-wheel.js";
import type { TestRegistry } from "../support/test-registry.js";

export const CHAIN_STEPS = ["s-ingest", "s-clean", "s-stats", "s-render", "s-cite"] as const;

/** render's script applied to the analysis result (an SVG as wide as its input is long). */
export const FIGURE = (() => {
  const w = Buffer.byteLength(expected.stats);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="10"><rect width="${w}" height="10"/></svg>\n`;
})();

export const CITE_PARAMS = { doi: "10.1234/audit", title: "Mean temperature", authors: ["Ada"] };

export interface EvidenceChain {
  fixture: RegistryFixture;
  wheelhouse: string;
  envHash: string;
}

/** Target: `citation`. */
export async function recordEvidenceChain(registry: TestRegistry): Promise<EvidenceChain> {
  const wheelhouse = path.join(registry.dir, "wheelhouse");
  const wheel = await buildTestWheel(
    wheelhouse,
    "rrstats",
    "1.0",
    "def mean(xs):\n    return sum(xs) / len(xs)\n",
  );
  return registry.with(async (db) => {
    const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
    const envHash = await f.environment("replay-base:bookworm", "pip", wheel.lockLine);
    await f.artifact("raw", RAW_CSV, { mediaType: "text/csv", title: "Raw temperatures" });
    await f.step({
      id: "s-ingest",
      target: "raw",
      stepType: "ingest",
      method: "downloaded from the weather service",
      parameters: { source_url: "https://example.org/raw.csv" },
      inputHash: null,
    });
    await f.artifact("clean", expected.clean, { type: "table", mediaType: "text/csv" });
    await f.step({
      id: "s-clean",
      source: "raw",
      target: "clean",
      stepType: "transform",
      method: "upper-case every cell",
      parameters: { code_hash: await f.blob(SCRIPTS.clean), args: { mode: "upper" }, code_name: "clean.py" },
    });
    await f.artifact("stats", expected.stats, { type: "analysis_result", mediaType: "application/json" });
    await f.step({
      id: "s-stats",
      source: "clean",
      target: "stats",
      stepType: "analysis",
      method: "mean temperature with rrstats 1.0",
      envHash,
      parameters: { code_hash: await f.blob(SCRIPTS.stats), code_name: "stats.py" },
    });
    await f.artifact("figure", FIGURE, { type: "figure", mediaType: "image/svg+xml", title: "Figure 1" });
    await f.step({
      id: "s-render",
      source: "stats",
      target: "figure",
      stepType: "render",
      method: "bar of the result's size",
      parameters: { code_hash: await f.blob(SCRIPTS.render), code_name: "render.py" },
    });
    await f.artifact("citation", `${canonicalJson({ ...CITE_PARAMS, cites: f.hashOf("figure") })}\n`, {
      type: "citation",
      mediaType: "application/json",
    });
    await f.step({
      id: "s-cite",
      source: "figure",
      target: "citation",
      stepType: "cite",
      parameters: CITE_PARAMS,
    });
    return { fixture: f, wheelhouse, envHash };
  });
}
