// Runs the built CLI: `npm test` builds first; run `npm run build` before running this file alone.
import { randomBytes } from "node:crypto";
import { access, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTRACT_SCHEMA_SQL, MIGRATIONS, openSqlClient, type SqlClient } from "../../src/db/index.js";
import { runCli } from "../support/run-cli.js";
import { ADMIN_PG_URL } from "../support/services.js";
import type { Backend } from "../support/test-registry.js";
import { BACKENDS } from "../support/test-registry.js";

const LATEST = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** A registry location with nothing in it yet: an empty folder, or an empty PostgreSQL database. */
interface EmptyRegistry {
  dir: string;
  env: Record<string, string>;
  open(): Promise<SqlClient>;
  dispose(): Promise<void>;
}

async function emptyRegistry(backend: Backend): Promise<EmptyRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `rr-init-${backend}-`));
  if (backend === "embedded") {
    // No REPLAY_HOME: init must create ./.replay/registry in the working directory.
    return {
      dir,
      env: {},
      open: () => openSqlClient({ databaseUrl: null, embeddedDir: path.join(dir, ".replay", "registry") }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const database = `rr_init_${randomBytes(6).toString("hex")}`;
  const admin = await openSqlClient({ databaseUrl: ADMIN_PG_URL, embeddedDir: "" });
  try {
    await admin.exec(`CREATE DATABASE ${database}`);
  } finally {
    await admin.close();
  }
  const url = new URL(ADMIN_PG_URL);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  return {
    dir,
    env: { DATABASE_URL: databaseUrl },
    open: () => openSqlClient({ databaseUrl, embeddedDir: "" }),
    async dispose() {
      const a = await openSqlClient({ databaseUrl: ADMIN_PG_URL, embeddedDir: "" });
      try {
        await a.exec(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } finally {
        await a.close();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function tablesOf(db: SqlClient): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
      WHERE table_schema IN ('public', 'replay_runner') ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

describe.each(BACKENDS)("replay-runner init on %s", (backend) => {
  let registry: EmptyRegistry | undefined;
  afterEach(async () => {
    await registry?.dispose();
    registry = undefined;
  });

  it("creates the registry, and a second run changes nothing", async () => {
    registry = await emptyRegistry(backend);
    const first = await runCli(["init"], { env: registry.env, cwd: registry.dir });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    if (backend === "embedded") {
      await access(path.join(registry.dir, ".replay", "registry", "PG_VERSION"));
      expect(first.stdout).toContain(
        `Created the embedded registry at ${path.join(registry.dir, ".replay", "registry")}`,
      );
    } else {
      expect(first.stdout).toContain("Using the PostgreSQL registry postgres://");
    }
    expect(first.stdout).toContain(
      "Created the contract tables: artifacts, environments, processing_steps, processing_step_inputs",
    );
    expect(first.stdout).toContain(
      `Applied replay-runner migrations ${MIGRATIONS.map((m) => m.version).join(", ")}`,
    );
    expect(first.stdout).toMatch(/The registry is ready\.\n$/);

    const db = await registry.open();
    const before = await tablesOf(db).finally(() => db.close());
    expect(before).toEqual([
      "public.artifacts",
      "public.environments",
      "public.processing_step_inputs",
      "public.processing_steps",
      "replay_runner.artifact_history",
      "replay_runner.batch_steps",
      "replay_runner.image_cache",
      "replay_runner.replays",
      "replay_runner.reproduced_images",
      "replay_runner.schema_migrations",
      "replay_runner.verifications",
    ]);

    const second = await runCli(["init"], { env: registry.env, cwd: registry.dir });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain("Created the contract tables");
    expect(second.stdout).toContain(
      "Left the existing contract tables unchanged: artifacts, environments, processing_step_inputs, processing_steps (0 artifacts, 0 processing steps, 0 environments)",
    );
    expect(second.stdout).toContain(`replay-runner's schema replay_runner is up to date (version ${LATEST})`);
    if (backend === "embedded") expect(second.stdout).toContain("Using the existing embedded registry");
    const again = await registry.open();
    expect(await tablesOf(again).finally(() => again.close())).toEqual(before);
  });

  it("leaves existing contract tables and their rows alone", async () => {
    registry = await emptyRegistry(backend);
    // A registry as production has it: contract tables with rows, no replay-runner schema.
    const db = await openSqlClient(
      backend === "embedded"
        ? { databaseUrl: null, embeddedDir: path.join(registry.dir, ".replay", "registry"), create: true }
        : { databaseUrl: registry.env.DATABASE_URL!, embeddedDir: "" },
    );
    try {
      await db.exec(CONTRACT_SCHEMA_SQL);
      await db.query(`INSERT INTO artifacts (id, artifact_type, content_hash) VALUES ($1, 'dataset', $2)`, [
        "prod-1",
        `sha256:${"a".repeat(64)}`,
      ]);
      await db.query(
        `INSERT INTO processing_steps (id, target_artifact_id, step_type, method) VALUES ('st-1', 'prod-1', 'ingest', 'x')`,
      );
    } finally {
      await db.close();
    }
    const result = await runCli(["init"], { env: registry.env, cwd: registry.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("(1 artifacts, 1 processing steps, 0 environments)");
    expect(result.stdout).toContain("Applied replay-runner migrations");
    const after = await registry.open();
    try {
      expect(await after.query(`SELECT id, content_hash FROM artifacts`)).toEqual([
        { id: "prod-1", content_hash: `sha256:${"a".repeat(64)}` },
      ]);
      expect(await after.query(`SELECT id FROM processing_steps`)).toEqual([{ id: "st-1" }]);
    } finally {
      await after.close();
    }
  });

  it("documents what it does and the exit codes in --help", async () => {
    registry = await emptyRegistry(backend);
    const result = await runCli(["init", "--help"], { env: registry.env, cwd: registry.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Idempotent");
    expect(result.stdout).toContain("Exit codes:");
  });
});
