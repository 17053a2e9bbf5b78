import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTRACT_SCHEMA_SQL, MIGRATIONS } from "../../src/db/index.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/**
 * The fixed contract's registry.sql: REPLAY_CONTRACT_DIR when set, else shared/contract beside
 * this checkout, else beside the repository it was cloned from (a clean clone in /tmp for CI).
 * Not found is a failure naming where it looked, never a skip.
 */
function contractFile(): string {
  let origin = "";
  try {
    origin = execFileSync("git", ["-C", repoRoot, "config", "--get", "remote.origin.url"], {
      encoding: "utf8",
    }).trim();
  } catch {
    // not a clone, or no origin
  }
  const candidates = [
    process.env.REPLAY_CONTRACT_DIR,
    path.resolve(repoRoot, "../shared/contract"),
    path.isAbsolute(origin) ? path.resolve(origin, "../shared/contract") : undefined,
  ]
    .filter((dir): dir is string => dir !== undefined && dir !== "")
    .map((dir) => path.join(dir, "registry.sql"));
  const found = candidates.find((file) => existsSync(file));
  if (found === undefined) {
    throw new Error(
      `the contract's registry.sql is not at any of: ${candidates.join(", ")}; set REPLAY_CONTRACT_DIR to the contract folder`,
    );
  }
  return found;
}

describe("contract schema", () => {
  it("is the contract's registry.sql byte for byte", async () => {
    expect(CONTRACT_SCHEMA_SQL).toBe(await readFile(contractFile(), "utf8"));
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
