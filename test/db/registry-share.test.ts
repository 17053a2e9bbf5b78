/**
 * `replay-runner serve` shares its embedded registry over a Unix socket (issue 12, item 15):
 * a client through it gets the rows and errors a local client gets, transactions are one unit
 * of work, and no client can crash or hold up the server.
 */
import { stat } from "node:fs/promises";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  openSqlClient,
  shareEmbeddedRegistry,
  type RegistryShare,
  type SqlClient,
} from "../../src/db/index.js";
import { encodeFrame } from "../../src/db/registry-wire.js";
import { readServeDescriptor } from "../../src/db/serve-descriptor.js";
import { ReplayError } from "../../src/errors/index.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";

interface Shared {
  registry: TestRegistry;
  db: SqlClient;
  share: RegistryShare;
  socket: string;
  remote(): Promise<SqlClient>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function shared(options: { txIdleMs?: number; txMaxMs?: number } = {}): Promise<Shared> {
  const registry = await createTestRegistry("embedded");
  cleanups.push(() => registry.dispose());
  const db = await openSqlClient({ databaseUrl: null, embeddedDir: registry.embeddedDir, asServer: true });
  cleanups.push(() => db.close());
  const logged: string[] = [];
  const share = await shareEmbeddedRegistry(db, registry.embeddedDir, {
    log: (l) => logged.push(l),
    ...options,
  });
  cleanups.push(() => share.close());
  expect(logged).toEqual([]);
  const socket = share.socket ?? "";
  return {
    registry,
    db,
    share,
    socket,
    async remote() {
      const client = await openSqlClient({ databaseUrl: null, embeddedDir: registry.embeddedDir });
      cleanups.push(() => client.close());
      return client;
    },
  };
}

/** A raw connection that speaks frames (or garbage) and collects the answers' JSON. */
async function rawClient(socket: string): Promise<{
  conn: net.Socket;
  send(data: unknown): void;
  answers(count: number): Promise<unknown[]>;
  closed: Promise<void>;
}> {
  const conn = net.createConnection(socket);
  await new Promise<void>((resolve, reject) => {
    conn.once("connect", resolve).once("error", reject);
  });
  cleanups.push(() => {
    conn.destroy();
    return Promise.resolve();
  });
  let buffer = Buffer.alloc(0);
  const got: unknown[] = [];
  conn.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
      const length = buffer.readUInt32BE(0);
      got.push(JSON.parse(buffer.subarray(4, 4 + length).toString("utf8")));
      buffer = buffer.subarray(4 + length);
    }
  });
  const closed = new Promise<void>((resolve) => {
    conn.once("close", () => {
      resolve();
    });
  });
  return {
    conn,
    send(data) {
      conn.write(Buffer.isBuffer(data) ? data : encodeFrame(data));
    },
    async answers(count) {
      const deadline = Date.now() + 10_000;
      while (got.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return got.splice(0, count);
    },
    closed,
  };
}

const ROWS_SQL = `SELECT 1::int AS i, 9007199254740991::int8 AS big, 'x'::text AS t, NULL::text AS n,
  'NaN'::float8 AS nan, '-Infinity'::float8 AS minf, '\\x00ff'::bytea AS bytes,
  '2024-02-29T12:34:56.789Z'::timestamptz AS at, '{"a": [1, {"b": null}], "c": "\\u00e9"}'::jsonb AS doc,
  ARRAY['a', 'b']::text[] AS list`;

describe("the embedded registry shared by serve", () => {
  it("answers through the socket exactly what the registry answers, in a 0600 socket in a 0700 folder", async () => {
    const s = await shared();
    const descriptor = await readServeDescriptor(s.registry.embeddedDir);
    expect(descriptor).toMatchObject({ pid: process.pid, socket: s.socket, unshared: null });
    expect((await stat(s.socket)).mode & 0o777).toBe(0o600);
    expect((await stat(`${s.registry.embeddedDir}.share`)).mode & 0o777).toBe(0o700);

    const remote = await s.remote();
    expect(remote.backend).toBe("embedded");
    expect(remote.description).toBe(s.db.description);
    const direct = await s.db.query(ROWS_SQL);
    const through = await remote.query(ROWS_SQL);
    expect(through).toEqual(direct);
    expect(through[0]?.at).toBeInstanceOf(Date);
    expect(through[0]?.bytes).toEqual(new Uint8Array([0, 255]));
    expect(through[0]?.nan).toBeNaN();
    expect(through[0]?.big).toBe(9007199254740991);

    // Parameters of every kind the code passes, and jsonb 5000 levels deep both ways.
    const deep = `${"[".repeat(5000)}1${"]".repeat(5000)}`;
    const [row] = await remote.query<{ at: Date; list: string[]; depth: number; doc: unknown }>(
      `SELECT $1::timestamptz AS at, $2::text[] AS list, jsonb_array_length($3::jsonb) AS depth, $3::jsonb AS doc`,
      [new Date("2001-02-03T04:05:06.007Z"), ["x", "y"], deep],
    );
    expect(row?.at.toISOString()).toBe("2001-02-03T04:05:06.007Z");
    expect(row?.list).toEqual(["x", "y"]);
    expect(row?.depth).toBe(1);
    // (JSON.stringify itself gives up near 5000 levels: count them by walking down.)
    let depth = 0;
    for (let v: unknown = row?.doc; Array.isArray(v); v = (v as unknown[])[0]) depth++;
    expect(depth).toBe(5000);

    // Errors keep their code, message and hint.
    const local = await s.db.query("SELECT * FROM no_such_table").catch((e: unknown) => e);
    const remoteError = await remote.query("SELECT * FROM no_such_table").catch((e: unknown) => e);
    expect(remoteError).toBeInstanceOf(ReplayError);
    expect((remoteError as ReplayError).toJSON()).toEqual((local as ReplayError).toJSON());
    expect(remote.queryCount).toBe(3);
  });

  it("runs a transaction as one unit: committed whole, or rolled back when the work throws", async () => {
    const s = await shared();
    const remote = await s.remote();
    await remote.exec("CREATE TABLE t (v int)");
    const result = await remote.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (1)");
      await tx.query("INSERT INTO t VALUES (2)");
      return "done";
    });
    expect(result).toBe("done");
    const failure = await remote
      .transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES (3)");
        throw new Error("the command changed its mind");
      })
      .catch((e: unknown) => (e as Error).message);
    expect(failure).toBe("the command changed its mind");
    const violated = await remote
      .transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES (4)");
        await tx.query("SELECT 1/0");
      })
      .catch((e: unknown) => (e as ReplayError).code);
    expect(violated).toBe("INTERNAL");
    expect(await s.db.query("SELECT v FROM t ORDER BY v")).toEqual([{ v: 1 }, { v: 2 }]);
  });

  it("answers bad frames with an error and goes on serving everyone", async () => {
    const s = await shared();
    const bad = await rawClient(s.socket);
    const notJson = Buffer.from("not json");
    const head = Buffer.alloc(4);
    head.writeUInt32BE(notJson.length);
    bad.send(Buffer.concat([head, notJson]));
    bad.send({ id: 7, op: "query", text: "SELECT 1", params: [] }); // before hello
    bad.send({ id: 8, op: "drop everything" });
    bad.send({ id: 9, op: "hello", data_dir: "/somewhere/else", version: 1 });
    const answers = (
      (await bad.answers(4)) as { id: number; ok: boolean; error: { code: string; message: string } }[]
    ).sort((a, b) => a.id - b.id);
    expect(answers.map((a) => [a.id, a.ok, a.error.code])).toEqual([
      [0, false, "INTERNAL"],
      [7, false, "INTERNAL"],
      [8, false, "INTERNAL"],
      [9, false, "DATABASE_UNAVAILABLE"],
    ]);
    expect(answers[1]?.error.message).toBe("Embedded registry query failed: the first request must be hello");
    expect(answers[3]?.error.message).toBe(
      `This socket serves the embedded registry ${s.registry.embeddedDir}, not /somewhere/else.`,
    );
    // A length no frame may have: the connection is closed with the reason.
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(0xffffffff);
    bad.send(huge);
    const [closing] = (await bad.answers(1)) as { id: number; error: { message: string } }[];
    expect(closing).toEqual({
      id: 0,
      ok: false,
      error: { code: "DATABASE_UNAVAILABLE", message: "a frame of 4294967295 bytes (at most 268435456)" },
    });
    await bad.closed;

    const remote = await s.remote();
    expect(await remote.query("SELECT 2 AS two")).toEqual([{ two: 2 }]);
    expect(await s.db.query("SELECT 3 AS three")).toEqual([{ three: 3 }]);
  });

  it("rolls back a transaction left idle, or left open by a client that went away, and serve goes on", async () => {
    const s = await shared({ txIdleMs: 300 });
    await s.db.exec("CREATE TABLE t (v int)");
    const idle = await rawClient(s.socket);
    idle.send({ id: 1, op: "hello", data_dir: s.registry.embeddedDir, version: 1 });
    idle.send({ id: 2, op: "begin" });
    idle.send({ id: 3, op: "query", text: "INSERT INTO t VALUES (1)", params: [], tx: 1 });
    expect(await idle.answers(3)).toMatchObject([
      { id: 1, ok: true },
      { id: 2, ok: true, tx: 1 },
      { id: 3, ok: true },
    ]);
    // The server's own statements wait for the open transaction, then run once it is rolled back.
    const started = Date.now();
    expect(await s.db.query("SELECT count(*)::int AS n FROM t")).toEqual([{ n: 0 }]);
    expect(Date.now() - started).toBeLessThan(5000);
    idle.send({ id: 4, op: "commit", tx: 1 });
    expect(await idle.answers(1)).toEqual([
      {
        id: 4,
        ok: false,
        error: {
          code: "DATABASE_UNAVAILABLE",
          message: "replay-runner serve rolled this command's transaction back: no statement came for 0.3 s.",
          hint: "Run the command again; if it keeps failing, stop `replay-runner serve` and run it without.",
          details: {},
        },
      },
    ]);

    const gone = await rawClient(s.socket);
    gone.send({ id: 1, op: "hello", data_dir: s.registry.embeddedDir, version: 1 });
    gone.send({ id: 2, op: "begin" });
    gone.send({ id: 3, op: "query", text: "INSERT INTO t VALUES (2)", params: [], tx: 1 });
    expect(await gone.answers(3)).toMatchObject([{ ok: true }, { ok: true }, { ok: true }]);
    gone.conn.destroy();
    expect(await s.db.query("SELECT count(*)::int AS n FROM t")).toEqual([{ n: 0 }]);
  });

  it("fails a client's statements with exit-3 errors when serve stops under it", async () => {
    const s = await shared();
    const remote = await s.remote();
    expect(await remote.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    await s.share.close();
    const error = (await remote.query("SELECT 1").catch((e: unknown) => e)) as ReplayError;
    expect(error.code).toBe("DATABASE_UNAVAILABLE");
    expect(error.message).toBe(
      `The embedded registry ${s.registry.embeddedDir} is shared by replay-runner serve (pid ${process.pid}), which closed this command's connection: it is shutting down.`,
    );
    expect(error.hint).toBe(
      "Nothing of an unfinished transaction was kept. Run the command again: it goes through serve while one runs, and opens the registry itself otherwise.",
    );
    expect(await readServeDescriptor(s.registry.embeddedDir)).toBeNull();
  });
});
