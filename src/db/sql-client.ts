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
import { redactDatabaseUrl, withoutDatabaseSecrets } from "../config/index.js";
import { ReplayError, isReplayError, messageOf } from "../errors/index.js";
import { makeFolders } from "../fs/index.js";
import { acquirePidLock, type LockHolder } from "../locks/index.js";
import { openServedRegistry } from "./remote-sql-client.js";
import { SERVE_LOCK_LABEL } from "./serve-descriptor.js";

export type SqlParam = string | number | boolean | null | Date | bigint | readonly unknown[] | object;

export interface SqlQueryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<Row[]>;
  /** Runs several statements separated by `;` (no parameters): DDL, migrations. */
  exec(text: string): Promise<void>;
}

export interface SqlClient extends SqlQueryable {
  readonly backend: "postgres" | "embedded";
  /**
   * True when no other process can use this database at the same time: the embedded registry
   * opened here (it admits one process). False for PostgreSQL, and for the embedded registry
   * reached through the `serve` process that holds it (db/remote-sql-client.ts).
   */
  readonly exclusive: boolean;
  /** A description safe to print: no password. */
  readonly description: string;
  /** Queries sent so far (exec counts one), so tests can assert how many a walk takes. */
  readonly queryCount: number;
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: calls `onNotify` on every NOTIFY on `channel`, from any process, until the
   * handle is closed, on a connection of its own (outside the pool). A lost connection ends the
   * calls quietly: listeners use them to act sooner, never to act at all.
   */
  listen?(channel: string, onNotify: () => void): Promise<Listener>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface Listener {
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A channel is an SQL identifier, which no parameter can carry: only plain names are allowed. */
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface OpenOptions {
  /** postgres:// URL; null selects the embedded registry under `embeddedDir`. */
  databaseUrl: string | null;
  embeddedDir: string;
  /** Embedded only: create the data folder when missing (init, record commands). */
  create?: boolean;
  /** Pool size for PostgreSQL (the server wants more than one). */
  poolSize?: number;
  /**
   * Embedded only: `replay-runner serve`, which opens PGlite itself (never through another serve)
   * and shares it with other commands (registry-socket-server.ts).
   */
  asServer?: boolean;
}

export async function openSqlClient(options: OpenOptions): Promise<SqlClient> {
  if (options.databaseUrl !== null) return openPostgres(options.databaseUrl, options.poolSize ?? 4);
  // While a serve holds the embedded registry, go through it (remote-sql-client.ts).
  if (options.asServer !== true) {
    const served = await openServedRegistry(options.embeddedDir);
    if (served !== null) return served;
  }
  return openEmbedded(options.embeddedDir, options.create ?? false, options.asServer === true);
}

/** Library text that may quote the connection: what is shown of it. */
type Scrub = (text: string) => string;

const asIs: Scrub = (text) => text;

function pgErrorToReplayError(error: unknown, description: string, scrub: Scrub = asIs): ReplayError {
  // Our own password lookup (pg-connection.ts) already says what is wrong and what to do.
  if (isReplayError(error)) return error;
  const code = (error as { code?: string }).code;
  const message = scrub(messageOf(error));
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
    /Connection terminated|connect ECONNREFUSED|no PostgreSQL user name/i.test(message);
  if (connection) {
    return new ReplayError(
      "DATABASE_UNAVAILABLE",
      `Cannot reach the registry database ${description}: ${message}`,
      {
        hint: /no PostgreSQL user name/i.test(message)
          ? "Name the user: user=NAME in the URL, postgres://NAME@host/db, or PGUSER (this process's uid has no user name to fall back on)."
          : "Check DATABASE_URL (or --db) and that PostgreSQL is running, e.g. `pg_ctlcluster 15 main start`; unset DATABASE_URL to use the embedded registry.",
        cause: error,
      },
    );
  }
  if (code === "42P01") {
    return new ReplayError(
      "REGISTRY_DATA",
      `The database ${description} has no registry tables: ${message}`,
      {
        hint: "Run `replay-runner init` (with the same --db) to create them.",
        cause: error,
      },
    );
  }
  return new ReplayError("INTERNAL", `Database query failed on ${description}: ${message}`, {
    cause: error,
  });
}

async function openPostgres(url: string, poolSize: number): Promise<SqlClient> {
  const description = redactDatabaseUrl(url);
  const scrub: Scrub = (text) => withoutDatabaseSecrets(text, url);
  const fail = (error: unknown) => pgErrorToReplayError(error, description, scrub);
  const [{ default: pgLib }, { pgConnectionConfig }] = await Promise.all([
    import("pg"),
    import("./pg-connection.js"),
  ]);
  let connection: pg.ClientConfig;
  try {
    connection = pgConnectionConfig(url);
  } catch (error) {
    // A port that is no number, an sslkey= file that cannot be read, ...
    throw new ReplayError(
      "USAGE",
      `The registry URL ${description} cannot be used: ${scrub(messageOf(error))}`,
      {
        hint: "Fix DATABASE_URL (or --db), e.g. postgres://user@host:5432/registry, or unset it for the embedded registry.",
        cause: error,
      },
    );
  }
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
    ...connection,
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
        throw fail(error);
      }
    },
    async exec(text: string) {
      count++;
      try {
        await q.query(text);
      } catch (error) {
        throw fail(error);
      }
    },
  });
  const base = wrap(pool);
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw fail(error);
  }
  let closed = false;
  const client: SqlClient = {
    backend: "postgres",
    exclusive: false,
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
        throw fail(error);
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
    async listen(channel: string, onNotify: () => void): Promise<Listener> {
      if (!CHANNEL_NAME.test(channel))
        throw new ReplayError("INTERNAL", `Not a channel name: ${JSON.stringify(channel)}.`);
      const conn = new pgLib.Client({ ...connection, types });
      conn.on("error", () => undefined);
      conn.on("notification", (message) => {
        if (message.channel === channel) onNotify();
      });
      try {
        await conn.connect();
        await conn.query(`LISTEN ${channel}`);
      } catch (error) {
        await conn.end().catch(() => undefined);
        throw fail(error);
      }
      let ended = false;
      const listener: Listener = {
        async close() {
          if (ended) return;
          ended = true;
          await conn.end().catch(() => undefined);
        },
        [Symbol.asyncDispose]() {
          return listener.close();
        },
      };
      return listener;
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

/** What to do when another process holds the embedded registry's lock. */
function embeddedLockHeld(dataDir: string, holder: LockHolder, asServer: boolean): ReplayError {
  const served = holder.label === SERVE_LOCK_LABEL;
  const [who, hint] = served
    ? asServer
      ? [
          " (another replay-runner serve)",
          "Use that server, or stop it first: one serve per embedded registry. Several servers share a PostgreSQL registry (DATABASE_URL).",
        ]
      : [
          " (replay-runner serve, which is starting or stopping)",
          "Run this command again in a moment: while serve runs, commands go through it.",
        ]
    : [
        "",
        "The embedded registry admits one process at a time: run this command again when that one has finished. While `replay-runner serve` runs, commands go through it instead; for several processes at once, use PostgreSQL (DATABASE_URL).",
      ];
  return new ReplayError(
    "DATABASE_UNAVAILABLE",
    `The embedded registry ${dataDir} is in use by process ${holder.pid}${who}.`,
    { hint, details: { pid: holder.pid } },
  );
}

async function openEmbedded(dir: string, create: boolean, asServer: boolean): Promise<SqlClient> {
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
    asServer ? SERVE_LOCK_LABEL : "replay-runner",
    (holder) => embeddedLockHeld(dataDir, holder, asServer),
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
    exclusive: true,
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
