/**
 * The provenance walk: every row upstream of an artifact in ONE recursive query, then
 * ordering and validation in TypeScript. One round trip matters: a 10,000-step chain walked
 * one query per step would cost 10,000 round trips to a remote registry.
 */
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import { chainProblemsError, inputNameProblem, type ChainProblem } from "./chain-problems.js";
import { environmentStateOf } from "./environment-state.js";
import {
  artifactRowSchema,
  environmentRowSchema,
  parseRow,
  stepInputRowSchema,
  stepRowSchema,
  type StepInputRowWithStep,
} from "./row-schemas.js";
import { compareIds, orderIndices, topologicalOrder } from "./topological-order.js";
import type { Artifact, Chain, ChainInput, ChainStep, Environment, EnvironmentState, Step } from "./types.js";

/**
 * `walk` collects artifact ids: the target, then the sources and input-row artifacts of the
 * steps producing each collected id. UNION (not UNION ALL) discards ids already collected,
 * so a cycle in the registry ends the recursion instead of looping forever.
 *
 * Then one row per collected id: its artifacts row (NULL when there is none: a dangling
 * reference) and, as a json aggregate, every step producing it with that step's
 * processing_step_inputs rows and environments row. The lookups are correlated subqueries on
 * purpose: PostgreSQL runs them per id through the contract's indexes (artifacts and
 * environments primary keys, processing_steps_target_idx, the inputs' primary key), where a
 * join could be planned as a hash join over a sequential scan of a whole table. So the cost
 * follows the chain's size, never the registry's.
 */
export const PROVENANCE_WALK_SQL = walkSql("SELECT $1::text");

/**
 * The same walk from many artifacts at once (`$1`: a JSON array of ids): the union of their
 * chains in one round trip, each shared row once (`verify`). A union is 100,000s of rows, so
 * its rows are plain columns, not jsonb built and parsed per row: one row per collected id and
 * step producing it (`s_id` NULL when none), each column as `to_jsonb(row)` would give it
 * (timestamps as to_jsonb's text; jsonb, text and numbers as such), and the step's input rows
 * as jsonb (few). The environments rows come in one more query (UNION_ENVIRONMENTS_SQL), once
 * each, not once per step. unionWalkRows puts them back into the rows PROVENANCE_WALK_SQL returns.
 *
 * `OFFSET 0` keeps each lookup a per-id index scan: without it PostgreSQL, expecting a few
 * thousand ids, merge-joined the walk with a full scan of the artifacts primary key (1,000,000
 * rows read for 50,000 wanted in benchmark 12), a cost that grew with the registry.
 */
export const UNION_WALK_SQL = `
WITH RECURSIVE ${walkCte("SELECT jsonb_array_elements_text($1::jsonb)")}
SELECT
  w.artifact_id,
  a.id IS NOT NULL AS a_exists, a.artifact_type AS a_artifact_type, a.title AS a_title,
  a.content_hash AS a_content_hash, a.size_bytes AS a_size_bytes, a.media_type AS a_media_type,
  to_jsonb(a.created_at) #>> '{}' AS a_created_at, a.metadata AS a_metadata,
  s.id AS s_id, s.source_artifact_id AS s_source_artifact_id,
  s.step_type AS s_step_type, s.method AS s_method, s.parameters AS s_parameters,
  s.input_hash AS s_input_hash, s.env_hash AS s_env_hash, s.trace_id AS s_trace_id,
  to_jsonb(s.started_at) #>> '{}' AS s_started_at, to_jsonb(s.completed_at) #>> '{}' AS s_completed_at,
  (SELECT jsonb_agg(to_jsonb(i)) FROM processing_step_inputs i WHERE i.step_id = s.id) AS s_inputs
FROM walk w
LEFT JOIN LATERAL (SELECT * FROM artifacts a WHERE a.id = w.artifact_id OFFSET 0) a ON true
LEFT JOIN LATERAL (SELECT * FROM processing_steps s WHERE s.target_artifact_id = w.artifact_id OFFSET 0) s ON true`;

/** The environments rows a union's steps name (`$1`: a JSON array of distinct env_hash values). */
export const UNION_ENVIRONMENTS_SQL = `
SELECT to_jsonb(e) AS environment
FROM (SELECT jsonb_array_elements_text($1::jsonb) AS env_hash) h
JOIN LATERAL (SELECT * FROM environments e WHERE e.env_hash = h.env_hash OFFSET 0) e ON true`;

/** One row of UNION_WALK_SQL. */
interface UnionWalkRow {
  artifact_id: string;
  a_exists: boolean;
  a_artifact_type: unknown;
  a_title: unknown;
  a_content_hash: unknown;
  a_size_bytes: unknown;
  a_media_type: unknown;
  a_created_at: unknown;
  a_metadata: unknown;
  s_id: unknown;
  s_source_artifact_id: unknown;
  s_step_type: unknown;
  s_method: unknown;
  s_parameters: unknown;
  s_input_hash: unknown;
  s_env_hash: unknown;
  s_trace_id: unknown;
  s_started_at: unknown;
  s_completed_at: unknown;
  s_inputs: unknown;
}

/** The union's rows so far, each id once, and each id's index among them. */
interface UnionRows {
  rows: WalkRow[];
  indexOf: Map<string, number>;
}

/**
 * UNION_WALK_SQL's rows as PROVENANCE_WALK_SQL's: the same values under the same keys, each
 * environments row (by env_hash, from UNION_ENVIRONMENTS_SQL) shared by the steps naming it.
 * Rows whose id came in an earlier round trip are skipped.
 */
function unionWalkRows(
  rows: readonly UnionWalkRow[],
  environments: ReadonlyMap<unknown, unknown>,
  into: UnionRows,
): void {
  const firstFresh = into.rows.length;
  // An id's rows (one per step producing it) come one after another from the nested loop, so
  // the previous row is checked before the map (no correctness depends on it).
  let last: WalkRow | undefined;
  for (const r of rows) {
    let row = last?.artifact_id === r.artifact_id ? last : undefined;
    if (row === undefined) {
      const known = into.indexOf.get(r.artifact_id);
      if (known !== undefined && known < firstFresh) continue;
      row = known === undefined ? undefined : into.rows[known];
      if (row === undefined) {
        row = {
          artifact_id: r.artifact_id,
          artifact: r.a_exists
            ? {
                id: r.artifact_id,
                artifact_type: r.a_artifact_type,
                title: r.a_title,
                content_hash: r.a_content_hash,
                size_bytes: r.a_size_bytes,
                media_type: r.a_media_type,
                created_at: r.a_created_at,
                metadata: r.a_metadata,
              }
            : null,
          producers: null,
        };
        into.indexOf.set(r.artifact_id, into.rows.length);
        into.rows.push(row);
      }
      last = row;
    }
    if (r.s_id === null || r.s_id === undefined) continue;
    const step = {
      id: r.s_id,
      source_artifact_id: r.s_source_artifact_id,
      target_artifact_id: r.artifact_id, // the step was looked up by it
      step_type: r.s_step_type,
      method: r.s_method,
      parameters: r.s_parameters,
      input_hash: r.s_input_hash,
      env_hash: r.s_env_hash,
      trace_id: r.s_trace_id,
      started_at: r.s_started_at,
      completed_at: r.s_completed_at,
    };
    const producer: RawProducer = {
      step,
      inputs: r.s_inputs,
      environment: environments.get(r.s_env_hash) ?? null,
    };
    if (Array.isArray(row.producers)) (row.producers as RawProducer[]).push(producer);
    else row.producers = [producer];
  }
}

/** The environments rows the union's steps name, by env_hash: one query, each row once. */
async function unionEnvironments(
  db: SqlQueryable,
  results: readonly (readonly UnionWalkRow[])[],
): Promise<Map<unknown, unknown>> {
  const hashes = new Set<string>();
  for (const rows of results)
    for (const r of rows) if (typeof r.s_env_hash === "string") hashes.add(r.s_env_hash);
  const environments = new Map<unknown, unknown>();
  if (hashes.size === 0) return environments;
  const found = await db.query<{ environment: Record<string, unknown> }>(UNION_ENVIRONMENTS_SQL, [
    JSON.stringify([...hashes]),
  ]);
  for (const { environment } of found) environments.set(environment.env_hash, environment);
  return environments;
}

function walkCte(seed: string): string {
  return `walk(artifact_id) AS (
    ${seed}
  UNION
    SELECT up.artifact_id
    FROM walk
    JOIN processing_steps s ON s.target_artifact_id = walk.artifact_id
    CROSS JOIN LATERAL (
        SELECT s.source_artifact_id WHERE s.source_artifact_id IS NOT NULL
      UNION ALL
        SELECT i.artifact_id FROM processing_step_inputs i WHERE i.step_id = s.id
    ) AS up(artifact_id)
)`;
}

function walkSql(seed: string): string {
  return `
WITH RECURSIVE ${walkCte(seed)}
SELECT
  w.artifact_id,
  (SELECT to_jsonb(a) FROM artifacts a WHERE a.id = w.artifact_id) AS artifact,
  (SELECT jsonb_agg(jsonb_build_object(
            'step', to_jsonb(s),
            'inputs', (SELECT jsonb_agg(to_jsonb(i)) FROM processing_step_inputs i WHERE i.step_id = s.id),
            'environment', (SELECT to_jsonb(e) FROM environments e WHERE e.env_hash = s.env_hash)))
     FROM processing_steps s WHERE s.target_artifact_id = w.artifact_id) AS producers
FROM walk w`;
}

/** One collected artifact id, as the query returns it (raw jsonb, validated by parseRows). */
interface WalkRow {
  artifact_id: string;
  artifact: Record<string, unknown> | null;
  producers: unknown;
}

interface RawProducer {
  step?: unknown;
  inputs?: unknown;
  environment?: unknown;
}

function keyOf(row: unknown, column: string): string {
  const value =
    typeof row === "object" && row !== null ? (row as Record<string, unknown>)[column] : undefined;
  if (typeof value === "string") return value;
  const json: string | undefined = value === undefined ? undefined : JSON.stringify(value);
  return json ?? "(unknown)";
}

interface ParsedRows {
  artifacts: Map<string, Artifact>;
  /** Ids of every artifacts row, well-formed or not: a malformed row is not a missing one. */
  artifactIds: Set<string>;
  steps: Step[];
  /** target_artifact_id of every step row, well-formed or not. */
  producedIds: Set<string>;
  inputs: Map<string, StepInputRowWithStep[]>;
  environments: Map<string, Environment>;
  problems: ChainProblem[];
}

/**
 * One walk row validated: at most its artifact, and its producers with their inputs and
 * environments. Arrays, not ParsedRows' maps: a union holds 100,000s of rows.
 */
interface RowPart {
  /** The row's artifacts row, when well-formed. */
  artifact: Artifact | undefined;
  /** Whether it has an artifacts row, well-formed or not: a malformed row is not a missing one. */
  hasArtifactRow: boolean;
  steps: Step[];
  inputs: StepInputRowWithStep[];
  environments: Environment[];
  problems: ChainProblem[];
}

/**
 * What walkChains shares between the chains it cuts out of one union: each row validated once,
 * each step's input-row problems found once, and each step's ChainStep built once. A ChainStep
 * depends only on rows upstream of its step, which every chain holding the step holds too.
 */
interface WalkMemo {
  rows: Map<WalkRow, RowPart>;
  inputProblems: Map<Step, ChainProblem[]>;
  chainSteps: Map<Step, ChainStep>;
  /** By env_hash: the environments row is keyed by it, so every chain sees the same state. */
  environmentStates: Map<string | null, EnvironmentState>;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/**
 * Environments rows validated once per row object: the union walk gives every step using an
 * env_hash the same object.
 */
const parsedEnvironments = new WeakMap<object, ReturnType<typeof parseEnvironment1>>();

function parseEnvironment1(raw: unknown) {
  return parseRow(environmentRowSchema, "environments", keyOf(raw, "env_hash"), raw);
}

function parseEnvironment(raw: unknown): ReturnType<typeof parseEnvironment1> {
  if (typeof raw !== "object" || raw === null) return parseEnvironment1(raw);
  let parsed = parsedEnvironments.get(raw);
  if (parsed === undefined) {
    parsed = parseEnvironment1(raw);
    parsedEnvironments.set(raw, parsed);
  }
  return parsed;
}

function parseProducer(raw: RawProducer, parsed: RowPart): void {
  const stepId = keyOf(raw.step, "id");
  const step = parseRow(stepRowSchema, "processing_steps", stepId, raw.step);
  if (step.ok) parsed.steps.push(step.value);
  else parsed.problems.push(...step.problems);
  for (const row of arrayOf(raw.inputs)) {
    const rowId = `${keyOf(row, "step_id")}#${keyOf(row, "position")}`;
    const input = parseRow(stepInputRowSchema, "processing_step_inputs", rowId, row);
    if (!input.ok) {
      parsed.problems.push(...input.problems);
      continue;
    }
    parsed.inputs.push(input.value);
  }
  if (raw.environment !== null && raw.environment !== undefined) {
    const environment = parseEnvironment(raw.environment);
    // A malformed environments row is an environment problem of the steps using it (they see
    // it as missing), not a reason to fail the whole walk.
    if (environment.ok) parsed.environments.push(environment.value);
  }
}

function emptyParsedRows(): ParsedRows {
  return {
    artifacts: new Map(),
    artifactIds: new Set(),
    steps: [],
    producedIds: new Set(),
    inputs: new Map(),
    environments: new Map(),
    problems: [],
  };
}

/** One walk row validated alone (zod): what every chain holding the row shares. */
function parseRow1(row: WalkRow): RowPart {
  const parsed: RowPart = {
    artifact: undefined,
    hasArtifactRow: row.artifact !== null,
    steps: [],
    inputs: [],
    environments: [],
    problems: [],
  };
  if (row.artifact !== null) {
    const artifact = parseRow(artifactRowSchema, "artifacts", row.artifact_id, row.artifact);
    if (artifact.ok) parsed.artifact = artifact.value;
    else parsed.problems.push(...artifact.problems);
  }
  for (const producer of arrayOf(row.producers)) parseProducer(producer as RawProducer, parsed);
  return parsed;
}

function partOf(row: WalkRow, memo: WalkMemo | undefined): RowPart {
  let part = memo?.rows.get(row);
  if (part === undefined) {
    part = parseRow1(row);
    memo?.rows.set(row, part);
  }
  return part;
}

/** The input rows of `step` among a row's. */
function inputsOf(part: RowPart, step: Step): StepInputRowWithStep[] {
  return part.inputs.length === 0 ? [] : part.inputs.filter((input) => input.stepId === step.id);
}

/**
 * The rows of one chain, validated. With a memo (walkChains), each row is validated once however
 * many chains hold it, and the chains share its parsed values.
 */
function parseRows(rows: readonly WalkRow[], memo?: WalkMemo): ParsedRows {
  const parsed = emptyParsedRows();
  for (const row of rows) {
    const part = partOf(row, memo);
    if (part.artifact !== undefined) parsed.artifacts.set(row.artifact_id, part.artifact);
    if (part.hasArtifactRow) parsed.artifactIds.add(row.artifact_id);
    for (const step of part.steps) parsed.steps.push(step);
    if (arrayOf(row.producers).length > 0) parsed.producedIds.add(row.artifact_id);
    for (const input of part.inputs) {
      const known = parsed.inputs.get(input.stepId);
      if (known === undefined) parsed.inputs.set(input.stepId, [input]);
      else known.push(input);
    }
    for (const environment of part.environments) parsed.environments.set(environment.envHash, environment);
    for (const problem of part.problems) parsed.problems.push(problem);
  }
  parsed.problems.sort((a, b) => compareIds(JSON.stringify(a), JSON.stringify(b)));
  return parsed;
}

/** Checks one step's input rows against the contract; attaches them to the step. */
function checkInputs(step: Step, rows: StepInputRowWithStep[], problems: ChainProblem[]): void {
  rows.sort((a, b) => a.position - b.position);
  step.inputRows = rows.map(({ position, name, artifactId }) => ({ position, name, artifactId }));
  if (rows.length === 0) return;
  if (rows.some((r, i) => r.position !== i)) {
    problems.push({ kind: "input_position_gap", stepId: step.id, positions: rows.map((r) => r.position) });
  }
  const first = rows[0];
  if (first && first.position === 0 && first.artifactId !== step.sourceArtifactId) {
    problems.push({
      kind: "input_source_mismatch",
      stepId: step.id,
      sourceArtifactId: step.sourceArtifactId,
      firstInputArtifactId: first.artifactId,
    });
  }
  const seen = new Set<string>();
  for (const r of rows) {
    const reason =
      inputNameProblem(r.name) ?? (seen.has(r.name) ? "which another input of the step also has" : null);
    if (reason !== null)
      problems.push({ kind: "bad_input_name", stepId: step.id, position: r.position, name: r.name, reason });
    seen.add(r.name);
  }
}

/** checkInputs' problems of one step, found once per walkChains call. */
function inputProblemsOf(
  step: Step,
  rows: StepInputRowWithStep[],
  memo: WalkMemo | undefined,
): ChainProblem[] {
  let problems = memo?.inputProblems.get(step);
  if (problems === undefined) {
    problems = [];
    checkInputs(step, rows, problems);
    memo?.inputProblems.set(step, problems);
  }
  return problems;
}

/** The artifact ids a step consumes, with the column each reference sits in. */
function referencesOf(step: Step): { artifactId: string; column: string }[] {
  if (step.inputRows.length > 0) {
    return step.inputRows.map((r) => ({
      artifactId: r.artifactId,
      column: `processing_step_inputs.artifact_id (position ${r.position})`,
    }));
  }
  return step.sourceArtifactId === null
    ? []
    : [{ artifactId: step.sourceArtifactId, column: "processing_steps.source_artifact_id" }];
}

export async function walkChain(db: SqlQueryable, artifactId: string): Promise<Chain> {
  const rows = await db.query<WalkRow>(PROVENANCE_WALK_SQL, [artifactId]);
  return chainFromRows(rows, artifactId);
}

/** The ids a walk row's producers consume (sources and input rows), as recorded. */
function consumedIds(row: WalkRow): string[] {
  const ids: string[] = [];
  for (const producer of arrayOf(row.producers) as RawProducer[]) {
    const source = (producer.step as Record<string, unknown> | null | undefined)?.source_artifact_id;
    if (typeof source === "string") ids.push(source);
    for (const input of arrayOf(producer.inputs)) {
      const id = (input as Record<string, unknown> | null)?.artifact_id;
      if (typeof id === "string") ids.push(id);
    }
  }
  return ids;
}

/**
 * The chains behind many artifacts: ONE query walks their union (`batchSize` ids per round
 * trip), then each chain is cut out of it in memory and validated exactly as walkChain does,
 * so a chain here is the chain `rerun` walks. A target whose rows walkChain would refuse as
 * registry data (a cycle, a dangling id, a malformed row) maps to that error: one bad chain
 * must not stop an audit of the others. An unknown id still throws.
 */
export async function walkChains(
  db: SqlQueryable,
  artifactIds: readonly string[],
  batchSize = 5000,
): Promise<Map<string, Chain | ReplayError>> {
  return (await walkUnion(db, artifactIds, batchSize)).chains;
}

export interface ChainUnion {
  /** walkChains' answer: each target's chain, or the error `rerun` of it would give. */
  chains: Map<string, Chain | ReplayError>;
  /**
   * The union's steps that are not on or behind a cycle (so every step of every chain in
   * `chains`), by place in the union's topological order (ready steps by id). In place order,
   * the steps of any chains' union are in the order topologicalOrder gives that union: each
   * chain holds every step upstream of each of its steps (UnionTable says why).
   */
  stepCount: number;
  stepAt: (place: number) => ChainStep;
  /** Each step's place, by id (a map of 100,000s of ids, built when first asked for). */
  placeOf: (stepId: string) => number | undefined;
  /** The places of a target's chain in increasing order, for the chains cut out by index. */
  placesOf: (artifactId: string) => Int32Array | undefined;
  /**
   * The step producing an artifact of a chain in `chains`, or undefined when none does: a
   * chain holds the producers of its artifacts, so the union's producer is the chain's.
   */
  producerOf: (artifactId: string) => ChainStep | undefined;
}

/** walkChains, with the union's step order (verify orders its batch by it). */
export async function walkUnion(
  db: SqlQueryable,
  artifactIds: readonly string[],
  batchSize = 5000,
): Promise<ChainUnion> {
  // The round trips are sent at once: on a pool (PostgreSQL) they run side by side, and the
  // rows of one are parsed while the server builds the next; a single connection queues them.
  const batches: string[][] = [];
  for (let i = 0; i < artifactIds.length; i += batchSize) batches.push(artifactIds.slice(i, i + batchSize));
  const results = await Promise.all(
    batches.map((ids) => db.query<UnionWalkRow>(UNION_WALK_SQL, [JSON.stringify(ids)])),
  );
  const environments = await unionEnvironments(db, results);
  const union: UnionRows = { rows: [], indexOf: new Map() };
  for (const rows of results) unionWalkRows(rows, environments, union);
  const memo: WalkMemo = {
    rows: new Map(),
    inputProblems: new Map(),
    chainSteps: new Map(),
    environmentStates: new Map(),
  };
  const table = unionTable(union, memo);
  const chains = new Map<string, Chain | ReplayError>();
  const places = new Map<string, Int32Array>();
  // mark[i] === t: row i is already in target t's chain (one array for all targets, no Set each).
  const mark = new Int32Array(table.rows.length).fill(-1);
  for (let t = 0; t < artifactIds.length; t++) {
    const target = artifactIds[t] as string;
    const own: number[] = [];
    const start = table.indexOf.get(target);
    const stack = start === undefined ? [] : [start];
    while (stack.length > 0) {
      const i = stack.pop() as number;
      if (mark[i] === t) continue;
      mark[i] = t;
      own.push(i);
      for (const up of table.upstream[i] as number[]) stack.push(up);
    }
    const clean = cleanChain(own, table);
    if (clean !== undefined) {
      chains.set(target, clean.chain);
      places.set(target, clean.places);
      continue;
    }
    try {
      table.memoiseRows();
      chains.set(
        target,
        chainFromRows(
          own.map((i) => table.rows[i] as WalkRow),
          target,
          memo,
        ),
      );
    } catch (error) {
      if (!(error instanceof ReplayError) || error.code !== "REGISTRY_DATA") throw error;
      chains.set(target, error);
    }
  }
  let byStepId: Map<string, number> | undefined;
  return {
    chains,
    stepCount: table.order.length,
    stepAt: table.stepAt,
    placeOf: (stepId) => {
      byStepId ??= new Map(Array.from(table.order, (slot, at) => [(table.steps[slot] as Step).id, at]));
      return byStepId.get(stepId);
    },
    placesOf: (artifactId) => places.get(artifactId),
    producerOf: (artifactId) => {
      const i = table.indexOf.get(artifactId);
      const at = i === undefined ? NOT_CLEAN : (table.place[i] as number);
      return at >= 0 ? table.stepAt(at) : undefined;
    },
  };
}

/** A row's place in UnionTable.place: not clean (or on or behind a cycle), or clean without a step. */
const NOT_CLEAN = -2;
const NO_STEP = -1;

/**
 * The union of walkChains' rows, checked once and held by index, so that cutting 10,000s of
 * chains out of it is integer work, with no map keyed by a string but `indexOf`.
 *
 * A row is clean when no chain could find a problem in it: it parsed, has its artifacts row, at
 * most one step (producing it) whose input rows are well-formed and whose every reference has
 * an artifacts row, and that step is not on or behind a cycle. A chain of clean rows has no
 * problem, and its steps in union order are the order walkChain gives it: the union is
 * ordered by Kahn's algorithm with ready steps taken by id, and a chain holds every step
 * upstream of each of its steps, so among them that picks exactly what the chain's own would.
 */
interface UnionTable {
  rows: WalkRow[];
  indexOf: Map<string, number>;
  /** The rows each row's producers consume (sources and input rows, as recorded). */
  upstream: number[][];
  /** Every step of the union, by slot. */
  steps: Step[];
  /** The slots in topological order; a slot's place is its index here. */
  order: Int32Array;
  /** By row: its step's place, or NOT_CLEAN / NO_STEP. */
  place: Int32Array;
  /** By place: the step there (built on first use, shared by every chain holding it). */
  stepAt: (place: number) => ChainStep;
  /** A clean row's artifact. */
  artifactAt: (row: number) => Artifact;
  /** Gives chainFromRows (a chain that is not clean) the rows' parsed values. */
  memoiseRows: () => void;
}

function unionTable({ rows, indexOf }: UnionRows, memo: WalkMemo): UnionTable {
  const parts = rows.map(parseRow1);
  // Steps by slot; a row's steps are the slots firstSlot[i] .. firstSlot[i + 1] - 1. A step
  // id is in one row only: the registry's primary key, and a step sits under its target.
  const steps: Step[] = [];
  const firstSlot = new Int32Array(rows.length + 1);
  parts.forEach((part, i) => {
    firstSlot[i] = steps.length;
    for (const step of part.steps) steps.push(step);
  });
  firstSlot[rows.length] = steps.length;
  const upstream: number[][] = [];
  const dependencies: number[][] = [];
  const cleanRow = new Uint8Array(rows.length);
  parts.forEach((part, i) => {
    let ok = part.problems.length === 0 && part.artifact !== undefined && part.steps.length <= 1;
    // The rows this row's producers consume (sources and input rows), as consumedIds reads them
    // from the raw row: from the parsed values when every value parsed, each id looked up once.
    const ups: number[] = [];
    const resolved = (artifactId: string | null) => {
      const j = artifactId === null ? undefined : indexOf.get(artifactId);
      if (j !== undefined && part.problems.length === 0) ups.push(j);
      return j;
    };
    if (part.problems.length > 0)
      for (const id of consumedIds(rows[i] as WalkRow)) {
        const j = indexOf.get(id);
        if (j !== undefined) ups.push(j);
      }
    for (const step of part.steps) {
      const source = resolved(step.sourceArtifactId);
      // A step without input rows has none to check (checkInputs would leave it as it is).
      if (part.inputs.length > 0 && inputProblemsOf(step, inputsOf(part, step), memo).length > 0) ok = false;
      const deps: number[] = [];
      const consume = (j: number | undefined) => {
        if (j === undefined || !(parts[j] as RowPart).hasArtifactRow) ok = false;
        else for (let k = firstSlot[j] as number; k < (firstSlot[j + 1] as number); k++) deps.push(k);
      };
      // referencesOf's ids, without an object for each.
      if (step.inputRows.length > 0) for (const r of step.inputRows) consume(indexOf.get(r.artifactId));
      else if (step.sourceArtifactId !== null) consume(source);
      dependencies.push(deps);
    }
    for (const input of part.inputs) resolved(input.artifactId);
    upstream.push(ups);
    if (ok) cleanRow[i] = 1;
  });
  const order = orderIndices(
    steps.map((s) => s.id),
    dependencies,
  );
  const placeOfSlot = new Int32Array(steps.length).fill(NOT_CLEAN);
  order.forEach((slot, at) => (placeOfSlot[slot] = at));
  const place = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const first = firstSlot[i] as number;
    place[i] =
      cleanRow[i] !== 1 ? NOT_CLEAN : first === firstSlot[i + 1] ? NO_STEP : (placeOfSlot[first] as number);
  }
  const environments = new Map<string, Environment>();
  for (const part of parts) for (const e of part.environments) environments.set(e.envHash, e);
  const artifactOf = (id: string) => {
    const i = indexOf.get(id);
    return i === undefined ? undefined : (parts[i] as RowPart).artifact;
  };
  const built: (ChainStep | undefined)[] = [];
  const stepAt = (at: number): ChainStep => {
    let chainStep = built[at];
    if (chainStep === undefined) {
      const slot = order[at] as number;
      const upstreamIds = (dependencies[slot] as number[]).map((k) => (steps[k] as Step).id);
      // Cached here by place, not in memo.chainSteps (a map of 100,000s of steps): a chain
      // chainFromRows builds instead is one with a problem, and builds its own.
      chainStep = chainStepOf(steps[slot] as Step, artifactOf, environments, upstreamIds, {
        environmentStates: memo.environmentStates,
      });
      built[at] = chainStep;
    }
    return chainStep;
  };
  const artifactAt = (i: number) => (parts[i] as RowPart).artifact as Artifact;
  let memoised = false;
  const memoiseRows = () => {
    if (memoised) return;
    memoised = true;
    rows.forEach((row, i) => memo.rows.set(row, parts[i] as RowPart));
  };
  return { rows, indexOf, upstream, steps, order, place, stepAt, artifactAt, memoiseRows };
}

/**
 * One target's chain (`own`: its rows, the target's first) from the union, with its steps'
 * places, or undefined when chainFromRows must look closer. Its steps and artifacts are listed
 * when first asked for: a batch of 10,000 targets is planned by place, and needs them for few.
 */
function cleanChain(
  own: readonly number[],
  table: UnionTable,
): { chain: Chain; places: Int32Array } | undefined {
  if (own.length === 0) return undefined;
  let stepCount = 0;
  for (const i of own) {
    const at = table.place[i] as number;
    if (at === NOT_CLEAN) return undefined;
    if (at !== NO_STEP) stepCount++;
  }
  const places = new Int32Array(stepCount);
  let n = 0;
  for (const i of own) {
    const at = table.place[i] as number;
    if (at !== NO_STEP) places[n++] = at;
  }
  places.sort();
  let steps: ChainStep[] | undefined;
  let artifacts: Map<string, Artifact> | undefined;
  let unproduced: Artifact[] | undefined;
  const chain: Chain = {
    target: table.artifactAt(own[0] as number),
    get steps() {
      steps ??= Array.from(places, table.stepAt);
      return steps;
    },
    get artifacts() {
      artifacts ??= new Map(
        own.map((i) => {
          const artifact = table.artifactAt(i);
          return [artifact.id, artifact];
        }),
      );
      return artifacts;
    },
    get unproducedArtifacts() {
      unproduced ??= own
        .filter((i) => table.place[i] === NO_STEP)
        .map((i) => table.artifactAt(i))
        .sort((a, b) => compareIds(a.id, b.id));
      return unproduced;
    },
  };
  return { chain, places };
}

function chainFromRows(rows: readonly WalkRow[], artifactId: string, memo?: WalkMemo): Chain {
  const parsed = parseRows(rows, memo);
  const { artifacts, steps, problems } = parsed;

  if (!parsed.artifactIds.has(artifactId) && !parsed.producedIds.has(artifactId)) {
    throw new ReplayError("NOT_FOUND", `There is no artifact ${artifactId} in the registry.`, {
      hint: "Check the id (artifacts.id, case-sensitive), and that --db / DATABASE_URL points at the right registry.",
      details: { artifactId },
    });
  }

  steps.sort((a, b) => compareIds(a.id, b.id));
  const producers = new Map<string, string[]>();
  for (const step of steps) {
    problems.push(...inputProblemsOf(step, parsed.inputs.get(step.id) ?? [], memo));
    const list = producers.get(step.targetArtifactId);
    if (list) list.push(step.id);
    else producers.set(step.targetArtifactId, [step.id]);
  }
  for (const [produced, stepIds] of producers) {
    if (stepIds.length > 1) problems.push({ kind: "duplicate_producer", artifactId: produced, stepIds });
  }

  const dependencies = new Map<string, string[]>();
  for (const step of steps) {
    const deps: string[] = [];
    for (const ref of referencesOf(step)) {
      if (!parsed.artifactIds.has(ref.artifactId)) {
        problems.push({
          kind: "dangling_reference",
          stepId: step.id,
          artifactId: ref.artifactId,
          column: ref.column,
        });
      }
      deps.push(...(producers.get(ref.artifactId) ?? []));
    }
    dependencies.set(step.id, deps);
    // Intermediate artifacts without a row are reported by their consumer above; only the
    // target has no consumer in the chain.
    if (step.targetArtifactId === artifactId && !parsed.artifactIds.has(artifactId)) {
      problems.push({
        kind: "dangling_reference",
        stepId: step.id,
        artifactId,
        column: "processing_steps.target_artifact_id",
      });
    }
  }

  const { order, cycles } = topologicalOrder(
    steps.map((s) => s.id),
    dependencies,
  );
  for (const stepIds of cycles) problems.push({ kind: "cycle", stepIds });

  const target = artifacts.get(artifactId);
  if (problems.length > 0 || target === undefined) throw chainProblemsError(artifactId, problems);

  const byId = new Map(steps.map((s) => [s.id, s]));
  const environmentStates = memo?.environmentStates ?? new Map<string | null, EnvironmentState>();
  const chainSteps = order.map((id): ChainStep => {
    const step = byId.get(id) as Step;
    return chainStepOf(step, (a) => artifacts.get(a), parsed.environments, dependencies.get(id) ?? [], {
      environmentStates,
      chainSteps: memo?.chainSteps,
    });
  });
  const unproducedArtifacts = [...artifacts.values()]
    .filter((a) => !producers.has(a.id))
    .sort((a, b) => compareIds(a.id, b.id));
  return { target, steps: chainSteps, artifacts, unproducedArtifacts };
}

/**
 * A step of a chain whose rows were all checked (every reference has its artifacts row). With
 * `chainSteps` (walkChains), built once and shared by every chain holding the step.
 */
function chainStepOf(
  step: Step,
  artifact: (id: string) => Artifact | undefined,
  environments: ReadonlyMap<string, Environment>,
  dependencies: readonly string[],
  memo: {
    environmentStates: Map<string | null, EnvironmentState>;
    chainSteps?: Map<Step, ChainStep> | undefined;
  },
): ChainStep {
  const known = memo.chainSteps?.get(step);
  if (known !== undefined) return known;
  const artifactOf = (id: string) => artifact(id) as Artifact; // every reference was checked
  const multiInput = step.inputRows.length > 0;
  const inputs: ChainInput[] = multiInput
    ? step.inputRows.map((r) => ({ name: r.name, artifact: artifactOf(r.artifactId) }))
    : step.sourceArtifactId === null
      ? []
      : [{ name: "source", artifact: artifactOf(step.sourceArtifactId) }];
  let environment = memo.environmentStates.get(step.envHash);
  if (environment === undefined) {
    environment = environmentStateOf(step.envHash, environments);
    memo.environmentStates.set(step.envHash, environment);
  }
  const chainStep: ChainStep = {
    step,
    target: artifactOf(step.targetArtifactId),
    inputs,
    multiInput,
    environment,
    upstreamStepIds: [...new Set(dependencies)],
  };
  memo.chainSteps?.set(step, chainStep);
  return chainStep;
}
