/**
 * `verify --diff`: a drifted step shared by two targets is diffed once, under the batch's
 * diffs/ (as is each mismatch it causes), and each target's manifest names the report from its
 * own folder.
 */
import { access, readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { readManifest } from "../support/manifest-schema.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const APPEND = `open("/out/output", "wb").write(open("/in/source", "rb").read() + b"2,4\\n")\n`;

describe("verify --diff", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "a,b\n1,2\n");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      // Recorded with other code: the replay appends "2,4", the record says "2,5".
      await f.scriptStep({
        id: "s-table",
        source: "raw",
        target: "table",
        payload: "a,b\n1,2\n2,5\n",
        script: APPEND,
      });
      for (const id of ["fig-a", "fig-b"]) {
        await f.artifact(id, "a,b\n1,2\n2,5\n", { type: "figure" });
        await f.step({ id: `s-${id}`, source: "table", target: id, stepType: "fork" });
      }
    });
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("diffs the shared origin once and names it from each target's manifest", async () => {
    const out = path.join(registry.dir, "batch");
    const result = await runCli(["verify", "--type", "figure", "--diff", "--out", out], {
      env: registry.env,
      cwd: registry.dir,
      timeoutMs: 240_000,
    });
    expect(result.code).toBe(1);
    // One diff per distinct mismatching step (the shared one once, not once per target).
    expect((await readdir(path.join(out, "diffs"))).filter((f) => f.endsWith(".txt")).sort()).toEqual([
      "s-fig-a.txt",
      "s-fig-b.txt",
      "s-table.txt",
    ]);
    for (const target of ["fig-a", "fig-b"]) {
      const folder = path.join(out, "targets", target);
      const manifest = await readManifest(folder);
      const row = manifest.steps.find((s) => s.step_id === "s-table");
      expect(row?.divergence).toBe("origin");
      expect(row?.diff?.files.text).toBe("../../diffs/s-table.txt");
      expect(row?.payload).toBe("../../artifacts/table");
      await access(path.join(folder, row?.payload ?? ""));
      const text = await readFile(path.join(folder, row?.diff?.files.text ?? ""), "utf8");
      expect(text).toContain("2,5");
      expect(text).toContain("2,4");
    }
  }, 300_000);
});
