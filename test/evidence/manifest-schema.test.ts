/**
 * The published schema of manifest.json against a manifest a replay wrote: ajv accepts it, and
 * refuses it once a required member is missing, a member is added or a status is not one of the
 * closed set. (Every other manifest the suite writes is checked by test/support/manifest-schema.ts.)
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { manifestProblems } from "../../src/evidence/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { manifestSchemaErrors, readManifest } from "../support/manifest-schema.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

describe("schemas/manifest.schema.json", () => {
  let registry: TestRegistry;
  let manifest: Record<string, unknown> & { steps: Record<string, unknown>[] };

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "a,b\n1,2\n", { mediaType: "text/csv" });
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
    });
    // An ingest-only chain needs no engine: the replay checks the blob and writes the manifest.
    const out = path.join(registry.dir, "out");
    const result = await runCli(["rerun", "raw", "--out", out], { env: registry.env, cwd: registry.dir });
    expect(result.code, result.stderr).toBe(0);
    manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as typeof manifest;
    await readManifest(out); // validated the way every test's manifest is
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("is a draft 2020-12 schema that closes every object", async () => {
    const schema = JSON.parse(await readFile(path.resolve("schemas/manifest.schema.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    const open: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (node === null || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.type === "object" && n.additionalProperties !== false) open.push(where);
      for (const [k, v] of Object.entries(n)) walk(v, `${where}/${k}`);
    };
    walk(schema, "");
    expect(open).toEqual([]);
  });

  it("accepts the manifest a replay wrote, with ajv and with export-crate's check", async () => {
    expect(manifestSchemaErrors(manifest)).toEqual([]);
    expect(await manifestProblems(manifest)).toEqual([]);
  });

  it("refuses a manifest missing a required member", async () => {
    const withoutSummary = Object.fromEntries(Object.entries(manifest).filter(([k]) => k !== "summary"));
    expect(manifestSchemaErrors(withoutSummary)).toEqual([
      "/: must have required property 'summary' (summary)",
    ]);
    const row = Object.fromEntries(Object.entries(manifest.steps[0]!).filter(([k]) => k !== "status"));
    expect(manifestSchemaErrors({ ...manifest, steps: [row] })).toEqual([
      "/steps/0: must have required property 'status' (status)",
    ]);
    expect(await manifestProblems(withoutSummary)).toEqual(["/: must have required property 'summary'"]);
  });

  it("refuses members it does not describe, statuses outside the closed set, and a wrong version", () => {
    expect(manifestSchemaErrors({ ...manifest, verdict: "x" })).toEqual([
      "/: must NOT have additional properties (verdict)",
    ]);
    expect(manifestSchemaErrors({ ...manifest, steps: [{ ...manifest.steps[0], status: "flaky" }] })).toEqual(
      ["/steps/0/status: must be equal to one of the allowed values"],
    );
    expect(manifestSchemaErrors({ ...manifest, manifest_version: 1 })).toEqual([
      "/manifest_version: must be equal to constant",
    ]);
    expect(
      manifestSchemaErrors({ ...manifest, steps: [{ ...manifest.steps[0], started_at: "yesterday" }] }),
    ).toEqual(expect.arrayContaining(['/steps/0/started_at: must match format "date-time"']) as unknown);
  });
});
