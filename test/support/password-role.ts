/**
 * A PostgreSQL role with a password and a database it owns, reached over TCP (127.0.0.1, where
 * this cluster asks for scram-sha-256 passwords), with the registry's tables: for tests of
 * passwords (where they come from, that they never show). Names and password are random;
 * dispose() drops both.
 */
import { randomBytes } from "node:crypto";
import { initRegistry, openSqlClient, type SqlClient } from "../../src/db/index.js";
import { ADMIN_PG_URL } from "./services.js";

export interface PasswordRoleNames {
  role: string;
  password: string;
  database: string;
  /** host:port of the TCP listener. */
  tcp: string;
}

export interface PasswordRole extends PasswordRoleNames {
  /** The database as the tests' admin (ADMIN_PG_URL): for reading what was stored. */
  asRoot(): Promise<SqlClient>;
  /** The database over TCP as the role, with its password. */
  asRole(): Promise<SqlClient>;
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function onAdmin(work: (db: SqlClient) => Promise<void>): Promise<void> {
  const db = await openSqlClient({ databaseUrl: ADMIN_PG_URL, embeddedDir: "" });
  try {
    await work(db);
  } finally {
    await db.close();
  }
}

/** Random names, known before the role exists (tests name their cases with them). */
export function passwordRoleNames(prefix: string): PasswordRoleNames {
  const suffix = randomBytes(5).toString("hex");
  return {
    role: `${prefix}_${suffix}`,
    database: `${prefix}_db_${suffix}`,
    password: `Pw-${randomBytes(8).toString("hex")}`,
    tcp: "127.0.0.1:5432",
  };
}

export async function createPasswordRole(names: PasswordRoleNames): Promise<PasswordRole> {
  const { role, database, password, tcp } = names;
  await onAdmin(async (db) => {
    await db.exec(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await db.exec(`CREATE DATABASE ${database} OWNER ${role}`);
  });
  const asRole = () =>
    openSqlClient({ databaseUrl: `postgres://${role}:${password}@${tcp}/${database}`, embeddedDir: "" });
  const owner = await asRole();
  try {
    // The role owns its registry's tables, as a production registry's user would.
    await initRegistry(owner);
  } finally {
    await owner.close();
  }
  const handle: PasswordRole = {
    role,
    password,
    database,
    tcp,
    asRoot: () => {
      const url = new URL(ADMIN_PG_URL);
      url.pathname = `/${database}`;
      return openSqlClient({ databaseUrl: url.toString(), embeddedDir: "" });
    },
    asRole,
    async dispose() {
      await onAdmin(async (db) => {
        await db.exec(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await db.exec(`DROP ROLE IF EXISTS ${role}`);
      });
    },
    [Symbol.asyncDispose]() {
      return handle.dispose();
    },
  };
  return handle;
}
