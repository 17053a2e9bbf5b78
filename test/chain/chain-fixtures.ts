/** Registry graphs the chain and command tests share, built with RegistryFixture. */
import { BlobStore } from "../../src/blobs/index.js";
import type { SqlClient } from "../../src/db/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import type { TestRegistry } from "../support/test-registry.js";

export const CREATED_AT = "2026-01-01T00:00:00.000Z";

export function fixtureFor(registry: TestRegistry, db: SqlClient): RegistryFixture {
  return new RegistryFixture(db, new BlobStore(registry.blobRoot));
}

/** Pins created_at (DEFAULT now()) so tree and JSON output can be compared exactly. */
export async function pinCreatedAt(db: SqlClient): Promise<void> {
  await db.query(`UPDATE artifacts SET created_at = $1`, [CREATED_AT]);
}

export const PIP_LOCK =
  "six==1.16.0 --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n";

/**
 * fig <- render-1 <- merged <- merge-1 <- [left.csv: clean-a, right.csv: clean-b, extra.csv: raw-a]
 * clean-a <- transform-a <- raw-a <- ingest-a (a diamond: raw-a is reached twice)
 * clean-b <- fork-b <- raw-b (produced by no step)
 */
export async function buildDiamondGraph(f: RegistryFixture): Promise<{ pipEnv: string; noneEnv: string }> {
  const pipEnv = await f.environment("replay-base:bookworm", "pip", PIP_LOCK);
  const noneEnv = await f.environment("replay-base:bookworm", "none", "");
  await f.artifact("raw-a", "x,y\n1,2\n", { mediaType: "text/csv", title: "Raw A" });
  await f.artifact("raw-b", "x,y\n3,4\n", { mediaType: "text/csv" });
  await f.artifact("clean-a", "x,y\n1,2\n# clean\n", { type: "table", mediaType: "text/csv" });
  await f.artifact("clean-b", "x,y\n3,4\n", { type: "table", mediaType: "text/csv" });
  await f.artifact("merged", "x,y\n1,2\n3,4\n", { type: "table", mediaType: "text/csv" });
  await f.artifact("fig", "<svg/>", { type: "figure", mediaType: "image/svg+xml" });
  await f.step({
    id: "ingest-a",
    target: "raw-a",
    stepType: "ingest",
    method: "Fetch A",
    parameters: { source_url: "https://example.org/a.csv" },
    inputHash: null,
  });
  await f.step({
    id: "transform-a",
    source: "raw-a",
    target: "clean-a",
    stepType: "transform",
    method: "Clean A",
    envHash: pipEnv,
  });
  await f.step({ id: "fork-b", source: "raw-b", target: "clean-b", stepType: "fork", method: "Copy B" });
  await f.step({
    id: "merge-1",
    target: "merged",
    stepType: "merge",
    method: "Merge the tables",
    envHash: noneEnv,
    inputs: [
      { name: "left.csv", artifactId: "clean-a" },
      { name: "right.csv", artifactId: "clean-b" },
      { name: "extra.csv", artifactId: "raw-a" },
    ],
  });
  await f.step({
    id: "render-1",
    source: "merged",
    target: "fig",
    stepType: "render",
    method: "Draw the figure",
    envHash: pipEnv,
    parameters: { code_name: "plot.py", args: { dpi: 300 } },
    traceId: "trace-42",
    completedAt: new Date("2026-01-02T03:05:00.000Z"),
  });
  return { pipEnv, noneEnv };
}

/** The diamond graph's tree, as `replay-runner lineage fig` prints it (without colour). */
export const DIAMOND_TREE = `fig (figure) <- step render-1: render "Draw the figure" [env pinned]
merged (table) <- step merge-1: merge "Merge the tables" [env pinned]
├─ left.csv: clean-a (table) <- step transform-a: transform "Clean A" [env pinned]
│  raw-a (dataset) <- step ingest-a: ingest "Fetch A" [frozen root: ingest]
├─ right.csv: clean-b (table) <- step fork-b: fork "Copy B"
│  raw-b (dataset) [frozen root: not produced by any step]
└─ extra.csv: raw-a (dataset) (see above)
`;

/** A linear chain a0 <- s00001 <- a1 ... <- a<n>, written with one INSERT ... SELECT per table. */
export async function buildLinearChain(db: SqlClient, steps: number, prefix = ""): Promise<void> {
  await db.query(
    `INSERT INTO artifacts (id, artifact_type, content_hash, size_bytes)
     SELECT $2::text || 'a' || g, 'dataset', 'sha256:' || encode(sha256(($2::text || g)::bytea), 'hex'), 1
     FROM generate_series(0, $1::int) AS g`,
    [steps, prefix],
  );
  await db.query(
    `INSERT INTO processing_steps (id, source_artifact_id, target_artifact_id, step_type, method, input_hash)
     SELECT $2::text || 's' || lpad(g::text, 5, '0'), $2::text || 'a' || (g - 1), $2::text || 'a' || g, 'fork', 'copy',
            'sha256:' || encode(sha256(($2::text || (g - 1))::bytea), 'hex')
     FROM generate_series(1, $1::int) AS g`,
    [steps, prefix],
  );
}
