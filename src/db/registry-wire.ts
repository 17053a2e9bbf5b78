/**
 * The wire format between `replay-runner serve` sharing its embedded registry and the commands
 * that use it (registry-socket-server.ts, remote-sql-client.ts): frames of a 4-byte big-endian
 * length and that many bytes of JSON, over a Unix socket.
 *
 * Values that JSON cannot carry (Date, bigint, bytes, NaN and ±Infinity) travel as
 * `{"\u0000": kind, "v": ...}`: PostgreSQL text and jsonb cannot hold a NUL, so no value read
 * from the registry is ever mistaken for one.
 */
import { z } from "zod";

/** Bumped whenever a message changes meaning: serve and a command of another version refuse each other. */
export const WIRE_VERSION = 1;

/** The largest frame a server accepts from a command (a replay's manifest, a big jsonb). */
export const MAX_REQUEST_BYTES = 256 * 1024 * 1024;
/** The largest frame a command accepts from the server: what V8 can hold as one string. */
export const MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

const TAG = "\u0000";

function tagged(kind: string, v: unknown): string {
  return JSON.stringify({ [TAG]: kind, v });
}

/**
 * JSON text of a value, walking with a stack of its own: JSON.stringify recurses and fails near
 * 5000 levels, while PGlite hands over jsonb of any depth PostgreSQL stores (JSON.parse has no
 * such limit), and a command must get through serve what it gets without it.
 */
function encodeValue(root: unknown): string {
  const out: string[] = [];
  const stack: ({ value: unknown } | string)[] = [{ value: root }];
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    if (typeof task === "string") {
      out.push(task);
      continue;
    }
    const value = task.value;
    if (value === null || value === undefined) out.push("null");
    else if (typeof value === "boolean") out.push(value ? "true" : "false");
    else if (typeof value === "number")
      out.push(Number.isFinite(value) ? JSON.stringify(value) : tagged("number", String(value)));
    else if (typeof value === "string") out.push(JSON.stringify(value));
    else if (typeof value === "bigint") out.push(tagged("bigint", value.toString()));
    else if (typeof value !== "object")
      out.push("null"); // functions, symbols: as JSON does
    else if (value instanceof Date) {
      const time = value.getTime();
      out.push(tagged("date", Number.isNaN(time) ? null : time));
    } else if (value instanceof Uint8Array) out.push(tagged("bytes", Buffer.from(value).toString("base64")));
    else if (Array.isArray(value)) {
      out.push("[");
      stack.push("]");
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i] as unknown });
        if (i > 0) stack.push(",");
      }
    } else {
      const entries = Object.entries(value as Record<string, unknown>).filter(
        ([, v]) => v !== undefined && typeof v !== "function" && typeof v !== "symbol",
      );
      out.push("{");
      stack.push("}");
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, v]: [string, unknown] = entries[i] ?? ["", null];
        stack.push({ value: v });
        stack.push(`${JSON.stringify(key)}:`);
        if (i > 0) stack.push(",");
      }
    }
  }
  return out.join("");
}

function restore(value: Record<string, unknown>): unknown {
  const { [TAG]: kind, v } = value;
  if (kind === "date") return new Date(typeof v === "number" ? v : Number.NaN);
  if (kind === "bigint" && typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  if (kind === "bytes" && typeof v === "string") return new Uint8Array(Buffer.from(v, "base64"));
  if (kind === "number" && typeof v === "string") return Number(v);
  return value;
}

/** Puts tagged values back, walking with a stack of its own (see encodeValue). */
function reviveTags(root: unknown): unknown {
  const holder: Record<string, unknown> = { root };
  const stack: [Record<string, unknown> | unknown[], string | number][] = [[holder, "root"]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [container, key] = item;
    const value = (container as Record<string | number, unknown>)[key];
    if (typeof value !== "object" || value === null) continue;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push([value, i]);
    } else if (Object.hasOwn(value, TAG)) {
      // defineProperty: a key named __proto__ stays a plain member.
      Object.defineProperty(container, key, {
        value: restore(value as Record<string, unknown>),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else {
      for (const k of Object.keys(value)) stack.push([value as Record<string, unknown>, k]);
    }
  }
  return holder.root;
}

/** One frame: length prefix and JSON. */
export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(encodeValue(message), "utf8");
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

export class FrameTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`a frame of ${bytes} bytes is larger than allowed`);
  }
}

/**
 * Collects a stream's chunks into frames. Chunks are kept in a list until a frame is complete,
 * so a large frame costs one copy, not one per chunk.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxBytes: number) {}

  /** The JSON texts of the frames completed by this chunk; throws FrameTooLarge. */
  push(chunk: Buffer): string[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: string[] = [];
    while (this.buffered >= 4) {
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > this.maxBytes) throw new FrameTooLarge(length);
      if (this.buffered < 4 + length) break;
      const all = this.take(4 + length);
      frames.push(all.subarray(4).toString("utf8"));
    }
    return frames;
  }

  private peek(bytes: number): Buffer {
    if ((this.chunks[0]?.length ?? 0) < bytes) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private take(bytes: number): Buffer {
    const all = this.chunks.length === 1 ? (this.chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(this.chunks);
    const rest = all.subarray(bytes);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return all.subarray(0, bytes);
  }
}

/** JSON text of a frame to a value, with the tagged values restored; throws on bad JSON. */
export function decodeFrame(text: string): unknown {
  return reviveTags(JSON.parse(text));
}

const id = z.number().int().positive();
const txId = z.number().int().positive();

/** What a command sends. `tx`: the statement belongs to that open transaction. */
export const requestSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("hello"), id, data_dir: z.string(), version: z.number() }),
  z.strictObject({
    op: z.literal("query"),
    id,
    text: z.string(),
    params: z.array(z.unknown()),
    tx: txId.optional(),
  }),
  z.strictObject({ op: z.literal("exec"), id, text: z.string(), tx: txId.optional() }),
  z.strictObject({ op: z.literal("begin"), id }),
  z.strictObject({ op: z.literal("commit"), id, tx: txId }),
  z.strictObject({ op: z.literal("rollback"), id, tx: txId }),
]);
export type RegistryRequest = z.infer<typeof requestSchema>;

export const wireErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

/** What the server answers; id 0: about the connection itself (bad frame, shutting down). */
export const responseSchema = z.union([
  z.object({
    id: z.number().int().nonnegative(),
    ok: z.literal(true),
    rows: z.array(z.unknown()).optional(),
    tx: txId.optional(),
    description: z.string().optional(),
  }),
  z.object({ id: z.number().int().nonnegative(), ok: z.literal(false), error: wireErrorSchema }),
]);
export type RegistryResponse = z.infer<typeof responseSchema>;
