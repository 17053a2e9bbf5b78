/**
 * A fresh registry per test on either backend: a copied PGlite folder, or a new PostgreSQL
 * database. Both get the contract's tables and replay-runner's own schema.
 */
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { initRegistry, openSqlClient, type SqlClient } from "../../src/db/index.js";
import { checkManifestsUnder } from "./manifest-schema.js";
import { ADMIN_PG_URL } from "./services.js";

export type Backend = "embedded" | "postgres";
export const BACKENDS: readonly Backend[] = ["embedded", "postgres"];

export interface TestRegistry {
  backend: Backend;
  /** A scratch folder: REPLAY_HOME (embedded registry, blobs) and the CLI's working directory. */
  dir: string;
  home: string;
  blobRoot: string;
  databaseUrl: string | null;
  embeddedDir: string;
  /** Environment for spawning the CLI against this registry. */
  env: Record<string, string>;
  open(): Promise<SqlClient>;
  /** Runs work on a client that is closed afterwards (PGlite allows one process at a time). */
  with<T>(work: (client: SqlClient) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function pgUrlFor(database: string): string {
  const url = new URL(ADMIN_PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createTestRegistry(backend: Backend): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `rr-test-${backend}-`));
  const home = path.join(dir, ".replay");
  const embeddedDir = path.join(home, "registry");
  const blobRoot = path.join(home, "blobs");
  let databaseUrl: string | null = null;
  let database: string | undefined;
  if (backend === "embedded") {
    await cp(inject("embeddedTemplate"), embeddedDir, { recursive: true });
  } else {
    database = `rr_test_${randomBytes(6).toString("hex")}`;
    const admin = await openSqlClient({ databaseUrl: ADMIN_PG_URL, embeddedDir: "" });
    try {
      await admin.exec(`CREATE DATABASE ${database}`);
    } finally {
      await admin.close();
    }
    databaseUrl = pgUrlFor(database);
    const client = await openSqlClient({ databaseUrl, embeddedDir: "" });
    try {
      await initRegistry(client);
    } finally {
      await client.close();
    }
  }
  const env: Record<string, string> = { REPLAY_HOME: home, REPLAY_BLOBS: blobRoot };
  if (databaseUrl !== null) env.DATABASE_URL = databaseUrl;
  const open = () => openSqlClient({ databaseUrl, embeddedDir });
  const registry: TestRegistry = {
    backend,
    dir,
    home,
    blobRoot,
    databaseUrl,
    embeddedDir,
    env,
    open,
    async with<T>(work: (client: SqlClient) => Promise<T>) {
      const client = await open();
      try {
        return await work(client);
      } finally {
        await client.close();
      }
    },
    async dispose() {
      // Every replay written under this registry's folder, checked against the published schema.
      const checked = checkManifestsUnder(dir);
      checked.catch(() => undefined); // thrown below, once the database is dropped
      if (database !== undefined) {
        const admin = await openSqlClient({ databaseUrl: ADMIN_PG_URL, embeddedDir: "" });
        try {
          await admin.exec(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        } finally {
          await admin.close();
        }
      }
      try {
        await checked;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    [Symbol.asyncDispose]() {
      return registry.dispose();
    },
  };
  return registry;
}
