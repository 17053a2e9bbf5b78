/**
 * The embedded registry while `replay-runner serve` holds it: a SqlClient whose statements go
 * over serve's socket (registry-socket-server.ts) instead of opening PGlite, which admits one
 * process. Same interface, same rows, same errors as the local client, so a command prints
 * exactly what it prints without serve. Transactions are proxied as one unit of work: serve
 * runs them on its own PGlite transaction and rolls back when this process goes away.
 */
import { setTimeout as sleep } from "node:timers/promises";
import net from "node:net";
import path from "node:path";
import { ReplayError, isReplayErrorCode } from "../errors/index.js";
import { liveLockHolder } from "../locks/index.js";
import {
  FrameReader,
  FrameTooLarge,
  MAX_RESPONSE_BYTES,
  WIRE_VERSION,
  decodeFrame,
  encodeFrame,
  responseSchema,
  type RegistryResponse,
  type WireError,
} from "./registry-wire.js";
import { SERVE_LOCK_LABEL, lockPath, readServeDescriptor } from "./serve-descriptor.js";
import type { SqlClient, SqlParam, SqlQueryable } from "./sql-client.js";

/** How long a command waits for a starting serve (PGlite opened, not yet shared) to share. */
const WAIT_FOR_STARTING_SERVE_MS = 30_000;

type Request =
  | { op: "hello"; data_dir: string; version: number }
  | { op: "query"; text: string; params: readonly SqlParam[]; tx?: number }
  | { op: "exec"; text: string; tx?: number }
  | { op: "begin" }
  | { op: "commit" | "rollback"; tx: number };

type Answer = Extract<RegistryResponse, { ok: true }>;

function errorFrom(wire: WireError): ReplayError {
  return new ReplayError(isReplayErrorCode(wire.code) ? wire.code : "INTERNAL", wire.message, {
    ...(wire.hint === undefined ? {} : { hint: wire.hint }),
    ...(wire.details === undefined ? {} : { details: wire.details }),
  });
}

class SocketRegistry {
  private readonly reader = new FrameReader(MAX_RESPONSE_BYTES);
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private lost: ReplayError | undefined;
  private closing = false;
  private readonly closed: Promise<void>;

  constructor(
    private readonly socket: net.Socket,
    private readonly dataDir: string,
    private readonly serverPid: number,
  ) {
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        resolve();
      }),
    );
    socket.on("data", (chunk: Buffer) => {
      this.onData(chunk);
    });
    socket.on("error", () => {
      this.fail(undefined);
    });
    socket.on("close", () => {
      this.fail(undefined);
    });
  }

  private lostError(reason: string | undefined): ReplayError {
    const what =
      reason === undefined
        ? "stopped answering while this command ran (it was stopped, or it crashed)"
        : `closed this command's connection: ${reason}`;
    return new ReplayError(
      "DATABASE_UNAVAILABLE",
      `The embedded registry ${this.dataDir} is shared by replay-runner serve (pid ${this.serverPid}), which ${what}.`,
      {
        hint: "Nothing of an unfinished transaction was kept. Run the command again: it goes through serve while one runs, and opens the registry itself otherwise.",
        details: { serve_pid: this.serverPid },
      },
    );
  }

  private fail(reason: string | undefined): void {
    if (this.lost !== undefined) return;
    this.lost = this.closing
      ? new ReplayError("INTERNAL", `The embedded registry ${this.dataDir} was used after close.`)
      : this.lostError(reason);
    for (const { reject } of this.pending.values()) reject(this.lost);
    this.pending.clear();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let frames: string[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      this.fail(error instanceof FrameTooLarge ? `an answer of ${error.bytes} bytes` : String(error));
      return;
    }
    for (const text of frames) {
      let response: RegistryResponse;
      try {
        response = responseSchema.parse(decodeFrame(text));
      } catch {
        this.fail("an answer that is not the registry protocol");
        return;
      }
      if (response.id === 0) {
        // About the connection (serve shutting down, a refused frame): the reason to report.
        if (!response.ok) this.fail(response.error.message);
        continue;
      }
      const waiter = this.pending.get(response.id);
      if (waiter === undefined) continue;
      this.pending.delete(response.id);
      if (response.ok) waiter.resolve(response);
      else waiter.reject(errorFrom(response.error));
    }
  }

  request(message: Request): Promise<Answer> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    if (this.closing)
      return Promise.reject(new ReplayError("INTERNAL", "The registry client was used after close."));
    const id = this.nextId++;
    return new Promise<Answer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(encodeFrame({ id, ...message }));
    });
  }

  async close(): Promise<void> {
    if (this.closing) return this.closed;
    this.closing = true;
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    await this.closed;
    clearTimeout(timer);
  }
}

/** A connected socket, or why not: "gone" (shutting down, a reused pid) or "refused" (permissions). */
async function connect(socketPath: string): Promise<net.Socket | "gone" | "refused"> {
  const socket = net.createConnection(socketPath);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.removeAllListeners("error");
    return socket;
  } catch (error) {
    socket.destroy();
    const code = (error as NodeJS.ErrnoException).code;
    return code === "EACCES" || code === "EPERM" ? "refused" : "gone";
  }
}

async function clientOver(socket: net.Socket, dataDir: string, serverPid: number): Promise<SqlClient> {
  const registry = new SocketRegistry(socket, dataDir, serverPid);
  const hello = await registry
    .request({ op: "hello", data_dir: dataDir, version: WIRE_VERSION })
    .catch(async (error: unknown) => {
      await registry.close();
      throw error;
    });
  let count = 0;
  const queryable = (tx?: number): SqlQueryable => ({
    async query<Row>(text: string, params: readonly SqlParam[] = []) {
      count++;
      const answer = await registry.request({
        op: "query",
        text,
        params,
        ...(tx === undefined ? {} : { tx }),
      });
      return (answer.rows ?? []) as Row[];
    },
    async exec(text: string) {
      count++;
      await registry.request({ op: "exec", text, ...(tx === undefined ? {} : { tx }) });
    },
  });
  const base = queryable();
  // One transaction at a time per client, as on one PGlite.
  let transactions: Promise<unknown> = Promise.resolve();
  const client: SqlClient = {
    backend: "embedded",
    // The serve process holds the registry, and other commands may use it at the same time.
    exclusive: false,
    description: hello.description ?? `embedded registry ${dataDir}`,
    get queryCount() {
      return count;
    },
    query: base.query.bind(base),
    exec: base.exec.bind(base),
    transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      const run = async (): Promise<T> => {
        const begun = await registry.request({ op: "begin" });
        const tx = begun.tx ?? 0;
        try {
          const result = await work(queryable(tx));
          await registry.request({ op: "commit", tx });
          return result;
        } catch (error) {
          await registry.request({ op: "rollback", tx }).catch(() => undefined);
          throw error;
        }
      };
      const result = transactions.then(run);
      transactions = result.catch(() => undefined);
      return result;
    },
    close: () => registry.close(),
    [Symbol.asyncDispose]() {
      return client.close();
    },
  };
  return client;
}

/**
 * A client through the `serve` that holds the embedded registry at `dataDir`, or null when no
 * live serve holds it (the caller opens PGlite itself, and its lock reports any other holder).
 * A serve that is still starting is waited for; one that could not share says why.
 */
export async function openServedRegistry(dataDir: string): Promise<SqlClient | null> {
  const resolved = path.resolve(dataDir);
  const deadline = Date.now() + WAIT_FOR_STARTING_SERVE_MS;
  for (;;) {
    const descriptor = await readServeDescriptor(resolved);
    if (descriptor !== null) {
      if (descriptor.socket === null) {
        throw new ReplayError(
          "DATABASE_UNAVAILABLE",
          `The embedded registry ${resolved} is held by replay-runner serve (pid ${descriptor.pid}), which could not share it with other commands: ${descriptor.unshared ?? "no reason given"}.`,
          {
            hint: `Stop that serve (Ctrl-C, or kill ${descriptor.pid}) and run this command again, or put the registry on PostgreSQL (DATABASE_URL) to use both at once.`,
            details: { pid: descriptor.pid },
          },
        );
      }
      const socket = await connect(descriptor.socket);
      if (socket === "refused") {
        throw new ReplayError(
          "DATABASE_UNAVAILABLE",
          `The embedded registry ${resolved} is held by replay-runner serve (pid ${descriptor.pid}), whose socket ${descriptor.socket} does not admit this user.`,
          {
            hint: "Run this command as the user who runs serve (the socket is theirs alone, like the registry's folder), or stop that serve first.",
            details: { pid: descriptor.pid },
          },
        );
      }
      // Gone between reading its descriptor and connecting: the lock says what is left.
      return socket === "gone" ? null : clientOver(socket, resolved, descriptor.pid);
    }
    const holder = await liveLockHolder(lockPath(resolved));
    if (holder?.label !== SERVE_LOCK_LABEL || holder.pid === process.pid) return null;
    if (Date.now() >= deadline) return null;
    await sleep(100);
  }
}
