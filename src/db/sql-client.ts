/**
 * The one module that talks to PostgreSQL (node-postgres) and to the embedded PGlite.
 * Everything else depends on the small SqlClient interface, so both backends run the same SQL.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import v8 from "node:v8";
// Types only: each backend's library is loaded when that backend is opened (pg ~120 ms, PGlite
// ~70 ms of start-up), so a command pays for one of them, and --help or --version for neither.
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import { ReplayError, messageOf } from "../errors/index.js";
import { makeFolders } from "../fs/index.js";
import { acquirePidLock } from "../locks/index.js";

export type SqlParam = string | number | boolean | null | Date | bigint | readonly unknown[] | object;

export interface SqlQueryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<Row[]>;
  /** Runs several statements separated by `;` (no parameters): DDL, migrations. */
  exec(text: string): Promise<void>;
}

export interface SqlClient extends SqlQueryable {
  readonly backend: "postgres" | "embedded";
  /** A description safe to print: no password. */
  readonly description: string;
  /** Queries sent so far (exec counts one), so tests can assert how many a walk takes. */
  readonly queryCount: number;
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface OpenOptions {
  /** postgres:// URL; null selects the embedded registry under `embeddedDir`. */
  databaseUrl: string | null;
  embeddedDir: string;
  /** Embedded only: create the data folder when missing (init, record commands). */
  create?: boolean;
  /** Pool size for PostgreSQL (the server wants more than one). */
  poolSize?: number;
}

export async function openSqlClient(options: OpenOptions): Promise<SqlClient> {
  if (options.databaseUrl !== null) return openPostgres(options.databaseUrl, options.poolSize ?? 4);
  return openEmbedded(options.embeddedDir, options.create ?? false);
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

function pgErrorToReplayError(error: unknown, description: string): ReplayError {
  const code = (error as { code?: string }).code;
  // Connection-level failures are infrastructure; SQL errors are bugs or bad registries.
  const connection =
    code === "ECONNREFUSED" ||
    code === "ENOTFOUND" ||
    code === "ETIMEDOUT" ||
    code === "ECONNRESET" ||
    code === "ENOENT" ||
    code === "57P01" ||
    code === "57P03" ||
    code === "3D000" ||
    code === "28000" ||
    code === "28P01" ||
    /Connection terminated|connect ECONNREFUSED|no PostgreSQL user name/i.test(messageOf(error));
  if (connection) {
    return new ReplayError(
      "DATABASE_UNAVAILABLE",
      `Cannot reach the registry database ${description}: ${messageOf(error)}`,
      {
        hint: "Check DATABASE_URL (or --db) and that PostgreSQL is running, e.g. `pg_ctlcluster 15 main start`; unset DATABASE_URL to use the embedded registry.",
        cause: error,
      },
    );
  }
  if (code === "42P01") {
    return new ReplayError(
      "REGISTRY_DATA",
      `The database ${description} has no registry tables: ${messageOf(error)}`,
      {
        hint: "Run `replay-runner init` (with the same --db) to create them.",
        cause: error,
      },
    );
  }
  return new ReplayError("INTERNAL", `Database query failed on ${description}: ${messageOf(error)}`, {
    cause: error,
  });
}

async function openPostgres(url: string, poolSize: number): Promise<SqlClient> {
  const description = redact(url);
  const { default: pgLib } = await import("pg");
  // int8 as a JS number: sizes stay far below 2^53, and both backends then agree.
  const builtinParser = pgLib.types.getTypeParser.bind(pgLib.types) as (
    oid: number,
    format?: string,
  ) => (value: string) => unknown;
  const INT8_OID = 20;
  const types = {
    getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? Number : builtinParser(oid, format)),
  } as unknown as pg.CustomTypesConfig;
  const pool = new pgLib.Pool({
    connectionString: url,
    max: poolSize,
    types,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client that loses its server must not crash the process.
  pool.on("error", () => undefined);
  let count = 0;
  const wrap = (q: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<Row>(text: string, params: readonly SqlParam[] = []) {
      count++;
      try {
        const result = await q.query(text, params as unknown[]);
        return result.rows as Row[];
      } catch (error) {
        throw pgErrorToReplayError(error, description);
      }
    },
    async exec(text: string) {
      count++;
      try {
        await q.query(text);
      } catch (error) {
        throw pgErrorToReplayError(error, description);
      }
    },
  });
  const base = wrap(pool);
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw pgErrorToReplayError(error, description);
  }
  let closed = false;
  const client: SqlClient = {
    backend: "postgres",
    description,
    get queryCount() {
      return count;
    },
    query: base.query.bind(base),
    exec: base.exec.bind(base),
    async transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      let conn: pg.PoolClient;
      try {
        conn = await pool.connect();
      } catch (error) {
        throw pgErrorToReplayError(error, description);
      }
      const tx = wrap(conn);
      try {
        await tx.exec("BEGIN");
        const result = await work(tx);
        await tx.exec("COMMIT");
        return result;
      } catch (error) {
        await conn.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        conn.release();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    [Symbol.asyncDispose]() {
      return client.close();
    },
  };
  return client;
}

async function exists(p: string): Promise<boolean> {
  try {
    await readFile(path.join(p, "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

/** Embedded buffer pool: a few times the working set of a command, far below PGlite's 128 MB. */
const EMBEDDED_SHARED_BUFFERS = "16MB";

/** 1000x V8's default (1,800,000): only code that stays hot for seconds reaches TurboFan. */
const WASM_TIERING_BUDGET = 1_800_000_000;
let tierUpLimited = false;

/**
 * PGlite's 9 MB of WebAssembly runs in V8's baseline compiler (Liftoff), and by default V8
 * recompiles every function that gets warm with TurboFan on background threads. Postgres'
 * start-up warms hundreds of them: on 2 vCPUs those jobs steal the CPU from the main thread,
 * and Node waits for all of them before the process may exit (~100-250 ms per command).
 * Raising the budget keeps short commands in Liftoff; a long `serve` still tiers up its
 * hottest code. Must run before the module is instantiated; a flag given by the user wins.
 */
function limitWasmTierUp(): void {
  if (tierUpLimited) return;
  tierUpLimited = true;
  // V8 flags can only come from the command line (Node refuses them in NODE_OPTIONS).
  const given = process.execArgv.join(" ");
  if (/wasm[-_](tiering[-_]budget|tier[-_]up|dynamic[-_]tiering)|liftoff/.test(given)) return;
  v8.setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
}

async function openEmbedded(dir: string, create: boolean): Promise<SqlClient> {
  const dataDir = path.resolve(dir);
  if (!(await exists(dataDir))) {
    if (!create) {
      throw new ReplayError("NOT_FOUND", `There is no embedded registry at ${dataDir}.`, {
        hint: "Create one with `replay-runner init` (or record into it with `replay-runner add`), set REPLAY_HOME to the folder that holds it, or set DATABASE_URL.",
        details: { path: dataDir },
      });
    }
    await makeFolders(dataDir, {
      what: "the embedded registry's folder",
      hint: "Set REPLAY_HOME (or --home) to a folder you can write, or DATABASE_URL to a PostgreSQL registry.",
    });
  }
  // PGlite is single-process: two processes on one data folder would corrupt it.
  const lock = await acquirePidLock(
    `${dataDir}.lock`,
    "replay-runner",
    (holder) =>
      new ReplayError(
        "DATABASE_UNAVAILABLE",
        `The embedded registry ${dataDir} is in use by process ${holder.pid}.`,
        {
          hint: "Wait for that command (or `replay-runner serve`) to finish, or point both at PostgreSQL with DATABASE_URL.",
          details: { pid: holder.pid },
        },
      ),
  );
  const release = () => lock.release();
  let db: PGlite;
  try {
    const { PGlite: PGliteClass } = await import("@electric-sql/pglite");
    limitWasmTierUp();
    db = await PGliteClass.create(dataDir, {
      // The registry is small and every page read is a cheap read() from the OS cache, while
      // the 128 MB default costs ~60-90 ms to zero out at every start-up (Liftoff memset).
      startParams: [...PGliteClass.defaultStartParams, "-c", `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`],
    });
  } catch (error) {
    await release();
    throw new ReplayError(
      "DATABASE_UNAVAILABLE",
      `Cannot open the embedded registry at ${dataDir}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  let count = 0;
  const description = `embedded registry ${dataDir}`;
  const translate = (error: unknown): ReplayError => {
    if ((error as { code?: string }).code === "42P01") return pgErrorToReplayError(error, description);
    return new ReplayError("INTERNAL", `Embedded registry query failed: ${messageOf(error)}`, {
      cause: error,
    });
  };
  const wrap = (q: Pick<PGlite, "query" | "exec">): SqlQueryable => ({
    async query<Row>(text: string, params: readonly SqlParam[] = []) {
      count++;
      try {
        const result = await q.query<Row>(text, params as unknown[]);
        return result.rows.map((row) => normalizeRow(row as Record<string, unknown>) as Row);
      } catch (error) {
        throw translate(error);
      }
    },
    async exec(text: string) {
      count++;
      try {
        await q.exec(text);
      } catch (error) {
        throw translate(error);
      }
    },
  });
  const base = wrap(db);
  let closed = false;
  const client: SqlClient = {
    backend: "embedded",
    description,
    get queryCount() {
      return count;
    },
    query: base.query.bind(base),
    exec: base.exec.bind(base),
    transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) => work(wrap(tx)));
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await db.close();
      } finally {
        await release();
      }
    },
    [Symbol.asyncDispose]() {
      return client.close();
    },
  };
  return client;
}

/** PGlite returns int8 as bigint; pg (configured above) as number. Make them agree. */
function normalizeRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === "bigint") row[key] = Number(value);
  }
  return row;
}
