/**
 * A registry that covers every step type of the contract, built the way production records
 * it. Expected payloads are computed here in TypeScript, independently of the scripts, so
 * a replay that reproduces them proves the scripts ran as recorded.
 */
import path from "node:path";
import { BlobStore } from "../../src/blobs/index.js";
import { canonicalJson, contentHashOf } from "../../src/hashing/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { buildTestWheel } from "../support/test-wheel.js";
import type { TestRegistry } from "../support/test-registry.js";

export const RAW_CSV = "city,temp\nOslo,3\nRome,18\n";

export const SCRIPTS = {
  clean: `import json
mode = json.load(open("/in/params.json"))["mode"]
data = open("/in/source").read()
open("/out/output", "w").write(data.upper() if mode == "upper" else data)
`,
  stats: `import csv, json, rrstats
rows = list(csv.DictReader(open("/in/source")))
temps = [int(r["TEMP"]) for r in rows]
open("/out/output", "w").write(json.dumps({"mean": rrstats.mean(temps), "n": len(temps)}, sort_keys=True))
`,
  render: `data = open("/in/source", "rb").read()
w = len(data)
open("/out/output", "w").write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="10"><rect width="{w}" height="10"/></svg>\\n')
`,
  merge: `import json
order = json.load(open("/in/params.json"))["order"]
with open("/out/output", "w") as out:
    for name in order:
        out.write(f"== {name}\\n" + open("/in/" + name).read())
`,
  stamp: `import time
open("/out/output", "w").write(str(time.time_ns()))
`,
  sizes: `import json, os
order = json.load(open("/in/params.json"))["order"]
open("/out/output", "w").write("".join(f"{n} {os.path.getsize('/in/' + n)}\\n" for n in order))
`,
};

const RRSTATS = "def mean(xs):\n    return sum(xs) / len(xs)\n";

export const expected = {
  clean: RAW_CSV.toUpperCase(),
  stats: '{"mean": 10.5, "n": 2}',
  render: (() => {
    const w = Buffer.byteLength(RAW_CSV.toUpperCase());
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="10"><rect width="${w}" height="10"/></svg>\n`;
  })(),
};

export interface Pipeline {
  fixture: RegistryFixture;
  wheelhouse: string;
  statsEnvHash: string;
}

/** Records the full pipeline; the target is `report`. */
export async function recordSciencePipeline(registry: TestRegistry): Promise<Pipeline> {
  const wheelhouse = path.join(registry.dir, "wheelhouse");
  const wheel = await buildTestWheel(wheelhouse, "rrstats", "1.0", RRSTATS);
  return registry.with(async (db) => {
    const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
    const code = async (src: string) => f.blob(src);
    const statsEnvHash = await f.environment("replay-base:bookworm", "pip", wheel.lockLine);

    await f.artifact("raw", RAW_CSV, { mediaType: "text/csv" });
    await f.step({
      id: "s-ingest",
      target: "raw",
      stepType: "ingest",
      parameters: { source_url: "https://example.org/raw.csv" },
      inputHash: null,
    });

    await f.artifact("clean", expected.clean, { type: "table", mediaType: "text/csv" });
    await f.step({
      id: "s-clean",
      source: "raw",
      target: "clean",
      stepType: "transform",
      parameters: { code_hash: await code(SCRIPTS.clean), args: { mode: "upper" } },
    });

    await f.artifact("stats", expected.stats, { type: "analysis_result", mediaType: "application/json" });
    await f.step({
      id: "s-stats",
      source: "clean",
      target: "stats",
      stepType: "analysis",
      envHash: statsEnvHash,
      parameters: { code_hash: await code(SCRIPTS.stats), code_name: "stats.py" },
    });

    await f.artifact("figure", expected.render, { type: "figure", mediaType: "image/svg+xml" });
    await f.step({
      id: "s-render",
      source: "clean",
      target: "figure",
      stepType: "render",
      parameters: { code_hash: await code(SCRIPTS.render) },
    });

    const citeParams = { doi: "10.1234/example", title: "Temperatures", authors: ["Ada", "Émile"] };
    await f.artifact("citation", `${canonicalJson({ ...citeParams, cites: f.hashOf("figure") })}\n`, {
      type: "citation",
      mediaType: "application/json",
    });
    await f.step({
      id: "s-cite",
      source: "figure",
      target: "citation",
      stepType: "cite",
      parameters: citeParams,
    });

    await f.artifact("figure-copy", expected.render, { type: "figure" });
    await f.step({ id: "s-fork", source: "figure", target: "figure-copy", stepType: "fork" });

    await f.artifact("merged", `== a.csv\n${expected.clean}== b.json\n${expected.stats}`, { type: "table" });
    await f.step({
      id: "s-merge",
      target: "merged",
      stepType: "merge",
      inputs: [
        { name: "a.csv", artifactId: "clean" },
        { name: "b.json", artifactId: "stats" },
      ],
      parameters: { code_hash: await code(SCRIPTS.merge), args: { order: ["a.csv", "b.json"] } },
    });

    await f.artifact("summary", "The mean temperature is 10.5.", { type: "summary" });
    await f.step({
      id: "s-llm",
      source: "stats",
      target: "summary",
      stepType: "llm_summarize",
      parameters: { model: "some-llm" },
    });

    await f.artifact("mystery", "recorded by an unknown step", { type: "summary" });
    await f.step({ id: "s-unknown", source: "summary", target: "mystery", stepType: "quantum_leap" });

    await f.artifact("stamped", "1700000000000000000", { type: "table" });
    await f.step({
      id: "s-stamp",
      source: "clean",
      target: "stamped",
      stepType: "transform",
      parameters: { code_hash: await code(SCRIPTS.stamp) },
    });

    await f.artifact("after-stamp", "1700000000000000000", { type: "table" });
    await f.step({ id: "s-after", source: "stamped", target: "after-stamp", stepType: "fork" });

    const order = ["citation", "figure-copy", "merged", "mystery", "after-stamp"];
    const sizes = order
      .map(
        (n) =>
          `${n} ${Buffer.byteLength(n === "citation" ? `${canonicalJson({ ...citeParams, cites: f.hashOf("figure") })}\n` : n === "figure-copy" ? expected.render : n === "merged" ? `== a.csv\n${expected.clean}== b.json\n${expected.stats}` : n === "mystery" ? "recorded by an unknown step" : "1700000000000000000")}\n`,
      )
      .join("");
    await f.artifact("report", sizes, { type: "table" });
    await f.step({
      id: "s-report",
      target: "report",
      stepType: "merge",
      inputs: order.map((n) => ({ name: n, artifactId: n })),
      parameters: { code_hash: await code(SCRIPTS.sizes), args: { order } },
    });
    return { fixture: f, wheelhouse, statsEnvHash };
  });
}

export function hashOf(text: string): string {
  return contentHashOf(text);
}
