/**
 * Zod schemas for the contract's rows. Registry rows are untrusted (production enforces no
 * foreign keys and no formats), so every row is validated here, at the boundary, before the
 * rest of replay-runner sees it. The schemas accept what both backends return: native values
 * from node-postgres and PGlite, or the JSON form produced by `to_jsonb(row)`.
 */
import { z } from "zod";
import { ReplayError } from "../errors/index.js";
import { CONTENT_HASH_RE, isContentHash } from "../hashing/index.js";
import { parseRecordedTime } from "./recorded-time.js";
import type { Artifact, Environment, Step, StepInputRow } from "./types.js";

const contentHash = z
  .string()
  .refine(isContentHash, { error: "is not 'sha256:' followed by 64 lowercase hex digits" });

// Timestamps arrive as Date or ±Infinity (native columns) or as text (to_jsonb), in every form
// PostgreSQL holds (recorded-time.ts). Text first: a union tries its options in order, and a
// batch walk gives 100,000s of timestamps as text (a failed option costs an issue object).
const recordedTime = z.union([z.string(), z.date(), z.number()]).transform((value, ctx) => {
  const time = parseRecordedTime(value);
  if (time === undefined) {
    ctx.addIssue({ code: "custom", message: "is not a valid timestamp" });
    return z.NEVER;
  }
  return time;
});

// A timestamp that only describes (created_at, completed_at): a point a Date holds.
const timestamp = recordedTime.transform((time, ctx) => {
  if (time.kind !== "date") {
    ctx.addIssue({ code: "custom", message: `is ${time.text}, not a point in time JavaScript can hold` });
    return z.NEVER;
  }
  return time.date;
});

// int8 arrives as number (pg, as configured), bigint (raw PGlite) or a JSON number.
const integer = z.union([z.number(), z.bigint(), z.string().regex(/^-?\d+$/)]).transform((value, ctx) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: "custom", message: "is not a safe integer" });
    return z.NEVER;
  }
  return n;
});

const jsonObject = z.record(z.string(), z.unknown());

const artifactColumns = z.object({
  id: z.string().min(1),
  artifact_type: z.string(),
  title: z.string().nullable(),
  content_hash: contentHash,
  size_bytes: integer.nullable(),
  media_type: z.string().nullable(),
  created_at: timestamp,
  metadata: jsonObject,
});

export const artifactRowSchema = artifactColumns.transform(toArtifact);

function toArtifact(r: z.output<typeof artifactColumns>): Artifact {
  return {
    id: r.id,
    artifactType: r.artifact_type,
    title: r.title,
    contentHash: r.content_hash,
    sizeBytes: r.size_bytes,
    mediaType: r.media_type,
    createdAt: r.created_at,
    metadata: r.metadata,
  };
}

// env_hash is the key, not checked for format here: a key its columns do not hash to is
// reported as an altered environment (per step), not as a malformed row.
export const environmentRowSchema = z
  .object({
    env_hash: z.string(),
    base_image: z.string(),
    lockfile_kind: z.string(),
    requirements_lock: z.string(),
  })
  .transform((r): Environment => ({
    envHash: r.env_hash,
    baseImage: r.base_image,
    lockfileKind: r.lockfile_kind,
    requirementsLock: r.requirements_lock,
  }));

const stepColumns = z.object({
  id: z.string().min(1),
  source_artifact_id: z.string().nullable(),
  target_artifact_id: z.string(),
  step_type: z.string(),
  method: z.string(),
  parameters: z.unknown(),
  input_hash: contentHash.nullable(),
  env_hash: contentHash.nullable(),
  trace_id: z.string().nullable(),
  started_at: recordedTime.nullable(),
  completed_at: timestamp.nullable(),
});

/** A processing_steps row; `inputRows` is filled in later from processing_step_inputs. */
export const stepRowSchema = stepColumns.transform(toStep);

function toStep(r: z.output<typeof stepColumns>): Step {
  return {
    id: r.id,
    sourceArtifactId: r.source_artifact_id,
    targetArtifactId: r.target_artifact_id,
    stepType: r.step_type,
    method: r.method,
    parameters: r.parameters ?? null,
    inputHash: r.input_hash,
    envHash: r.env_hash,
    traceId: r.trace_id,
    startedAt: r.started_at?.kind === "date" ? r.started_at.date : null,
    sourceDateEpoch: r.started_at?.kind === "infinite" ? null : (r.started_at?.epochSeconds ?? null),
    startedAtText: r.started_at === null || r.started_at.kind === "date" ? null : r.started_at.text,
    completedAt: r.completed_at,
    inputRows: [],
  };
}

/*
 * The common case of the two schemas above, checked at a fraction of their cost: a batch walk
 * validates 100,000s of rows, and zod's unions, pipes and transforms cost more per row than
 * the plain types of these shapes (5-8 µs against under 1). A fast shape accepts only what the
 * full schema accepts (text timestamps and int8 as a number, as both walks return them) and
 * maps it with the same function; anything else, and every malformed row, goes through the full
 * schema, which alone says what is wrong.
 */
const fastContentHash = z.string().regex(CONTENT_HASH_RE);

// The full columns, with only their costly types replaced.
const fastArtifactShape = artifactColumns.extend({
  content_hash: fastContentHash,
  size_bytes: z.number().nullable(),
  created_at: z.string(),
});

const fastStepShape = stepColumns.extend({
  input_hash: fastContentHash.nullable(),
  env_hash: fastContentHash.nullable(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});

function fastDate(text: string): Date | undefined {
  const time = parseRecordedTime(text);
  return time?.kind === "date" ? time.date : undefined;
}

function fastArtifact(raw: unknown): Artifact | undefined {
  const parsed = fastArtifactShape.safeParse(raw);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  if (r.size_bytes !== null && !Number.isSafeInteger(r.size_bytes)) return undefined;
  const createdAt = fastDate(r.created_at);
  return createdAt === undefined ? undefined : toArtifact({ ...r, created_at: createdAt });
}

function fastStep(raw: unknown): Step | undefined {
  const parsed = fastStepShape.safeParse(raw);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  const startedAt = r.started_at === null ? null : parseRecordedTime(r.started_at);
  const completedAt = r.completed_at === null ? null : fastDate(r.completed_at);
  if (startedAt === undefined || completedAt === undefined) return undefined;
  return toStep({ ...r, started_at: startedAt, completed_at: completedAt });
}

const fastPaths = new Map<z.ZodType, (raw: unknown) => unknown>([
  [artifactRowSchema, fastArtifact],
  [stepRowSchema, fastStep],
]);

export interface StepInputRowWithStep extends StepInputRow {
  stepId: string;
}

export const stepInputRowSchema = z
  .object({
    step_id: z.string(),
    position: integer,
    name: z.string(),
    artifact_id: z.string(),
  })
  .transform((r): StepInputRowWithStep => ({
    stepId: r.step_id,
    position: r.position,
    name: r.name,
    artifactId: r.artifact_id,
  }));

export const stepTypeCountRowSchema = z
  .object({ step_type: z.string(), count: integer })
  .transform((r) => ({ stepType: r.step_type, count: r.count }));

/** The contract's tables as named in messages. */
export type RegistryTable = "artifacts" | "environments" | "processing_steps" | "processing_step_inputs";

/** One malformed column of one row, in a form both a message and `details` can carry. */
export interface RowProblem {
  kind: "malformed_row";
  table: RegistryTable;
  /** The row's key: id, env_hash, or `<step_id>#<position>` for processing_step_inputs. */
  rowId: string;
  column: string;
  message: string;
}

/** JSON.stringify as it behaves: undefined for functions and symbols (its declared type says string). */
function jsonText(value: unknown): string | undefined {
  return JSON.stringify(value);
}

function describeValue(value: unknown): string {
  if (value === null) return "NULL";
  if (value === undefined) return "absent";
  let text: string;
  try {
    // JSON.stringify returns undefined for functions and throws on bigint.
    text = jsonText(value) ?? typeof value;
  } catch {
    text = typeof value;
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function rowProblemMessage(p: RowProblem): string {
  return `${p.table} row ${JSON.stringify(p.rowId)}: column ${p.column} ${p.message}`;
}

/**
 * Validates one row. Returns the mapped value, or the row's problems (one per bad column)
 * so a caller can report every malformed row at once.
 */
export function parseRow<T>(
  schema: z.ZodType<T>,
  table: RegistryTable,
  rowId: string,
  raw: unknown,
): { ok: true; value: T } | { ok: false; problems: RowProblem[] } {
  const fast = fastPaths.get(schema)?.(raw);
  if (fast !== undefined) return { ok: true, value: fast as T };
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const record = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const problems = result.error.issues.map((issue): RowProblem => {
    const column = issue.path.length > 0 ? String(issue.path[0]) : "(row)";
    // Zod's own wording for type mismatches is terse; say what was found instead.
    const found = issue.path.length > 0 ? ` (found ${describeValue(record[column])})` : "";
    const what = issue.code === "custom" ? issue.message : `is invalid: ${issue.message}`;
    return { kind: "malformed_row", table, rowId, column, message: `${what}${found}` };
  });
  return { ok: false, problems };
}

/** Validates one row and throws REGISTRY_DATA naming table, row and column when it is malformed. */
export function parseRowOrThrow<T>(
  schema: z.ZodType<T>,
  table: RegistryTable,
  rowId: string,
  raw: unknown,
): T {
  const parsed = parseRow(schema, table, rowId, raw);
  if (parsed.ok) return parsed.value;
  throw new ReplayError(
    "REGISTRY_DATA",
    `Malformed registry row: ${parsed.problems.map(rowProblemMessage).join("; ")}.`,
    {
      hint: "Fix the row in the registry (the contract's formats are in docs/registry-contract.md); replay-runner never rewrites it.",
      details: { problems: parsed.problems },
    },
  );
}
