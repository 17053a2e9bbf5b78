import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTRACT_SCHEMA_SQL, MIGRATIONS } from "../../src/db/index.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const contractFile = path.resolve(import.meta.dirname, "../../../shared/contract/registry.sql");

describe("contract schema", () => {
  it("is the contract's registry.sql byte for byte", async () => {
    expect(CONTRACT_SCHEMA_SQL).toBe(await readFile(contractFile, "utf8"));
  });
});

describe.each(BACKENDS)("registry on %s", (backend) => {
  let registry: TestRegistry | undefined;
  afterEach(async () => {
    await registry?.dispose();
  });

  it("has the four contract tables and every migration applied", async () => {
    registry = await createTestRegistry(backend);
    const { tables, versions } = await registry.with(async (db) => ({
      tables: await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      ),
      versions: await db.query<{ version: number }>(
        `SELECT version FROM replay_runner.schema_migrations ORDER BY 1`,
      ),
    }));
    expect(tables.map((t) => t.table_name)).toEqual([
      "artifacts",
      "environments",
      "processing_step_inputs",
      "processing_steps",
    ]);
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });
});
