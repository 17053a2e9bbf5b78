/**
 * `replay-runner serve` on the embedded registry shares it: PGlite admits one process, so serve
 * answers the registry queries of other commands (show, lineage, rerun, add, ...) over a Unix
 * socket that only its user can open (a 0700 folder, the socket 0600: the people who could open
 * the PGlite folder anyway). Statements run on serve's own client, so they interleave with its
 * replays exactly as two callers in one process do.
 *
 * A client cannot hurt the server: every frame is bounded and validated, a bad one gets an
 * error answer, a transaction that idles or runs too long is rolled back (serve's own queries
 * wait for an open transaction, as in one process), and a client that goes away loses its
 * open transaction. See docs/decisions.md, "Sharing the embedded registry".
 */
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ReplayError, isReplayError, messageOf } from "../errors/index.js";
import {
  FrameReader,
  FrameTooLarge,
  MAX_REQUEST_BYTES,
  WIRE_VERSION,
  decodeFrame,
  encodeFrame,
  requestSchema,
  type RegistryRequest,
  type RegistryResponse,
  type WireError,
} from "./registry-wire.js";
import { removeServeDescriptor, writeServeDescriptor } from "./serve-descriptor.js";
import type { SqlClient, SqlParam, SqlQueryable } from "./sql-client.js";

export interface ShareOptions {
  log: (line: string) => void;
  /** A transaction with no statement for this long is rolled back (default 10 s). */
  txIdleMs?: number;
  /** ... and one open for this long in all (default 60 s). */
  txMaxMs?: number;
  /** Connections served at once (default 64); more are refused with a reason. */
  maxConnections?: number;
}

export interface RegistryShare {
  /** null: sharing failed (the descriptor says why, and commands report it). */
  socket: string | null;
  close(): Promise<void>;
}

/** Requests one connection may have outstanding; more get an error answer. */
const MAX_IN_FLIGHT = 256;
/** A Unix socket path longer than this does not fit in sockaddr_un on every system. */
const MAX_SOCKET_PATH = 100;

/** A folder only this user can enter: created 0700, or an existing one verified (not a link). */
async function privateFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory()) throw new Error(`${dir} is not a folder`);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) throw new Error(`${dir} belongs to uid ${info.uid}, not ${uid}`);
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/** `<data dir>.share/registry.sock`, or under the temp folder when that path is too long. */
async function socketPathFor(dataDir: string): Promise<string> {
  const beside = path.join(`${dataDir}.share`, "registry.sock");
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH) {
    await privateFolder(path.dirname(beside));
    return beside;
  }
  const dir = path.join(os.tmpdir(), `replay-runner-${process.getuid?.() ?? "user"}`);
  await privateFolder(dir);
  return path.join(dir, `${createHash("sha256").update(dataDir).digest("hex").slice(0, 16)}.sock`);
}

function wireError(error: unknown): WireError {
  if (isReplayError(error)) {
    return {
      code: error.code,
      message: error.message,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      details: error.details,
    };
  }
  return { code: "INTERNAL", message: `Embedded registry query failed: ${messageOf(error)}` };
}

function badRequest(message: string): WireError {
  return {
    code: "INTERNAL",
    message: `The registry shared by replay-runner serve refused a request: ${message}`,
  };
}

/** Refusals a command can act on (another serve version, a rolled-back transaction): exit 3. */
function unavailable(message: string): ReplayError {
  return new ReplayError("DATABASE_UNAVAILABLE", message, {
    hint: "Run the command again; if it keeps failing, stop `replay-runner serve` and run it without.",
  });
}

class Rollback extends Error {}

/** One open transaction of one connection: statements are fed to the callback PGlite runs. */
class SharedTransaction {
  private waiting: ((request: RegistryRequest | Error) => void) | undefined;
  private queued: (RegistryRequest | Error)[] = [];
  aborted: string | undefined;
  openedAt = Date.now();

  constructor(readonly id: number) {}

  feed(request: RegistryRequest | Error): void {
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(request);
    } else this.queued.push(request);
  }

  next(idleMs: number, deadline: number): Promise<RegistryRequest | Error> {
    const first = this.queued.shift();
    if (first !== undefined) return Promise.resolve(first);
    const wait = Math.max(0, Math.min(idleMs, deadline - Date.now()));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve(
          new Error(
            Date.now() >= deadline
              ? `it was open for more than ${(deadline - this.openedAt) / 1000} s`
              : `no statement came for ${idleMs / 1000} s`,
          ),
        );
      }, wait);
      this.waiting = (request) => {
        clearTimeout(timer);
        resolve(request);
      };
    });
  }
}

class ShareConnection {
  private readonly reader = new FrameReader(MAX_REQUEST_BYTES);
  private greeted = false;
  private draining = false;
  private inFlight = 0;
  private nextTx = 1;
  private tx: SharedTransaction | undefined;
  private readonly work = new Set<Promise<void>>();

  constructor(
    private readonly socket: net.Socket,
    private readonly db: SqlClient,
    private readonly dataDir: string,
    private readonly options: Required<Omit<ShareOptions, "log" | "maxConnections">>,
  ) {
    socket.on("data", (chunk: Buffer) => {
      this.onData(chunk);
    });
    socket.on("error", () => undefined); // a client that vanished; 'close' follows
    socket.on("close", () => {
      this.tx?.feed(new Error("the command that opened it went away"));
    });
  }

  /** Resolves once every request of this connection is answered or dropped. */
  async settled(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** `reason` completes "serve closed this command's connection: ...". */
  end(reason: string): void {
    this.tx?.feed(new Error(`serve closed the connection: ${reason}`));
    this.send({ id: 0, ok: false, error: { code: "DATABASE_UNAVAILABLE", message: reason } });
    this.socket.end();
    this.socket.destroySoon();
  }

  private send(response: RegistryResponse): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(response);
    } catch (error) {
      // Rows too large to encode: the request fails, the connection goes on.
      frame = encodeFrame({
        id: response.id,
        ok: false,
        error: badRequest(`its answer: ${messageOf(error)}`),
      });
    }
    // A client that does not read its answers stops being read: memory stays bounded.
    if (!this.socket.write(frame) && !this.draining) {
      this.draining = true;
      this.socket.pause();
      this.socket.once("drain", () => {
        this.draining = false;
        this.socket.resume();
      });
    }
  }

  private onData(chunk: Buffer): void {
    let frames: string[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      const why =
        error instanceof FrameTooLarge
          ? `a frame of ${error.bytes} bytes (at most ${MAX_REQUEST_BYTES})`
          : messageOf(error);
      this.end(why);
      return;
    }
    for (const text of frames) this.onFrame(text);
  }

  private onFrame(text: string): void {
    let raw: unknown;
    try {
      raw = decodeFrame(text);
    } catch (error) {
      this.send({ id: 0, ok: false, error: badRequest(`a frame that is not JSON (${messageOf(error)})`) });
      return;
    }
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      this.send({
        id: typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : 0,
        ok: false,
        error: badRequest(
          parsed.error.issues.map((i) => `${i.path.join(".") || "frame"}: ${i.message}`).join("; "),
        ),
      });
      return;
    }
    const request = parsed.data;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.send({
        id: request.id,
        ok: false,
        error: badRequest(`more than ${MAX_IN_FLIGHT} requests in flight`),
      });
      return;
    }
    this.inFlight++;
    const job = this.handle(request)
      .catch((error: unknown) => {
        this.send({ id: request.id, ok: false, error: wireError(error) });
      })
      .finally(() => {
        this.inFlight--;
        this.work.delete(job);
      });
    this.work.add(job);
  }

  private async handle(request: RegistryRequest): Promise<void> {
    if (request.op === "hello") {
      if (request.version !== WIRE_VERSION) {
        throw unavailable(
          `replay-runner serve (pid ${process.pid}) shares the embedded registry in wire version ${WIRE_VERSION}, this command speaks ${request.version}: run both from the same installation.`,
        );
      }
      if (path.resolve(request.data_dir) !== this.dataDir) {
        throw unavailable(
          `This socket serves the embedded registry ${this.dataDir}, not ${request.data_dir}.`,
        );
      }
      this.greeted = true;
      this.send({ id: request.id, ok: true, description: this.db.description });
      return;
    }
    if (!this.greeted) throw new Error("the first request must be hello");
    switch (request.op) {
      case "query":
      case "exec":
        if (request.tx === undefined) {
          this.send({ id: request.id, ok: true, rows: await run(this.db, request) });
          return;
        }
        this.transactionFor(request.tx).feed(request);
        return;
      case "commit":
      case "rollback":
        this.transactionFor(request.tx).feed(request);
        return;
      case "begin":
        await this.begin(request.id);
        return;
    }
  }

  private transactionFor(id: number): SharedTransaction {
    const tx = this.tx;
    if (tx?.id !== id) throw new Error(`transaction ${id} is not open on this connection`);
    if (tx.aborted !== undefined) {
      this.tx = undefined;
      throw unavailable(`replay-runner serve rolled this command's transaction back: ${tx.aborted}.`);
    }
    return tx;
  }

  private async begin(beginId: number): Promise<void> {
    if (this.tx !== undefined) throw new Error("one transaction at a time per connection");
    const tx = new SharedTransaction(this.nextTx++);
    this.tx = tx;
    let ending: RegistryRequest | undefined;
    try {
      await this.db.transaction(async (sql) => {
        tx.openedAt = Date.now();
        const deadline = tx.openedAt + this.options.txMaxMs;
        this.send({ id: beginId, ok: true, tx: tx.id });
        for (;;) {
          const next = await tx.next(this.options.txIdleMs, deadline);
          if (next instanceof Error) {
            tx.aborted = next.message;
            throw new Rollback(next.message);
          }
          if (next.op === "commit") {
            ending = next;
            return;
          }
          if (next.op === "rollback") {
            ending = next;
            throw new Rollback("rolled back by the command");
          }
          if (next.op !== "query" && next.op !== "exec") continue;
          try {
            this.send({ id: next.id, ok: true, rows: await run(sql, next) });
          } catch (error) {
            // The command decides: it usually rolls back; PostgreSQL refuses the rest meanwhile.
            this.send({ id: next.id, ok: false, error: wireError(error) });
          }
        }
      });
      if (ending !== undefined) this.send({ id: ending.id, ok: true });
      this.tx = undefined;
    } catch (error) {
      if (ending !== undefined) {
        this.send(
          error instanceof Rollback
            ? { id: ending.id, ok: true }
            : { id: ending.id, ok: false, error: wireError(error) },
        );
        this.tx = undefined;
      } else if (!(error instanceof Rollback)) {
        // BEGIN itself failed: the begin request gets the error.
        this.tx = undefined;
        throw error;
      }
      // Rolled back by the server (idle, too long, client gone): the next statement is told why.
    }
  }
}

async function run(
  sql: SqlQueryable,
  request: { op: "query" | "exec"; text: string; params?: unknown[] },
): Promise<unknown[]> {
  if (request.op === "exec") {
    await sql.exec(request.text);
    return [];
  }
  return sql.query(request.text, (request.params ?? []) as SqlParam[]);
}

/**
 * Listens on the socket and writes the descriptor. Never throws: when the socket cannot be
 * made, the descriptor says so and commands report that reason instead of waiting.
 */
export async function shareEmbeddedRegistry(
  db: SqlClient,
  dataDir: string,
  options: ShareOptions,
): Promise<RegistryShare> {
  const resolved = path.resolve(dataDir);
  const settings = {
    txIdleMs: options.txIdleMs ?? 10_000,
    txMaxMs: options.txMaxMs ?? 60_000,
  };
  const maxConnections = options.maxConnections ?? 64;
  const connections = new Set<ShareConnection>();
  const server = net.createServer((socket) => {
    const connection = new ShareConnection(socket, db, resolved, settings);
    if (connections.size >= maxConnections) {
      connection.end(`it already serves ${maxConnections} commands; try again when one has finished`);
      return;
    }
    connections.add(connection);
    socket.on("close", () => {
      void connection.settled().then(() => connections.delete(connection));
    });
  });
  server.on("error", (error) => {
    options.log(`registry socket: ${messageOf(error)}`);
  });
  const started = new Date().toISOString();
  let socket: string | null = null;
  try {
    socket = await socketPathFor(resolved);
    // serve holds the registry's lock: a socket file already there is a dead serve's.
    await rm(socket, { force: true });
    const listening = socket;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listening, () => {
        server.off("error", reject);
        resolve();
      });
    });
    await chmod(socket, 0o600);
    await writeServeDescriptor(resolved, {
      pid: process.pid,
      data_dir: resolved,
      socket,
      unshared: null,
      wire_version: WIRE_VERSION,
      started_at: started,
    });
  } catch (error) {
    const why = messageOf(error);
    options.log(`cannot share the embedded registry with other commands: ${why}`);
    server.close();
    socket = null;
    await writeServeDescriptor(resolved, {
      pid: process.pid,
      data_dir: resolved,
      socket: null,
      unshared: why,
      wire_version: WIRE_VERSION,
      started_at: started,
    }).catch(() => undefined);
  }
  const shared = socket;
  let closing: Promise<void> | undefined;
  return {
    socket: shared,
    close() {
      closing ??= (async () => {
        await removeServeDescriptor(resolved).catch(() => undefined);
        const closed = new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
        for (const connection of connections) connection.end("it is shutting down");
        await Promise.allSettled([...connections].map((c) => c.settled()));
        await closed;
        if (shared !== null) await rm(shared, { force: true }).catch(() => undefined);
      })();
      return closing;
    },
  };
}
