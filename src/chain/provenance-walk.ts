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
import { compareIds, topologicalOrder } from "./topological-order.js";
import type { Artifact, Chain, ChainInput, ChainStep, Environment, Step } from "./types.js";

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
 * chains in one round trip, each shared row once (`verify`).
 */
export const UNION_WALK_SQL = walkSql("SELECT jsonb_array_elements_text($1::jsonb)");

function walkSql(seed: string): string {
  return `
WITH RECURSIVE walk(artifact_id) AS (
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
)
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

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function parseProducer(raw: RawProducer, parsed: ParsedRows): void {
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
    const list = parsed.inputs.get(input.value.stepId);
    if (list) list.push(input.value);
    else parsed.inputs.set(input.value.stepId, [input.value]);
  }
  if (raw.environment !== null && raw.environment !== undefined) {
    const environment = parseRow(
      environmentRowSchema,
      "environments",
      keyOf(raw.environment, "env_hash"),
      raw.environment,
    );
    // A malformed environments row is an environment problem of the steps using it (they see
    // it as missing), not a reason to fail the whole walk.
    if (environment.ok) parsed.environments.set(environment.value.envHash, environment.value);
  }
}

function parseRows(rows: readonly WalkRow[]): ParsedRows {
  const parsed: ParsedRows = {
    artifacts: new Map(),
    artifactIds: new Set(),
    steps: [],
    producedIds: new Set(),
    inputs: new Map(),
    environments: new Map(),
    problems: [],
  };
  for (const row of rows) {
    if (row.artifact !== null) {
      parsed.artifactIds.add(row.artifact_id);
      const artifact = parseRow(artifactRowSchema, "artifacts", row.artifact_id, row.artifact);
      if (artifact.ok) parsed.artifacts.set(row.artifact_id, artifact.value);
      else parsed.problems.push(...artifact.problems);
    }
    const producers = arrayOf(row.producers);
    if (producers.length > 0) parsed.producedIds.add(row.artifact_id);
    for (const producer of producers) parseProducer(producer as RawProducer, parsed);
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
  const byId = new Map<string, WalkRow>();
  for (let i = 0; i < artifactIds.length; i += batchSize) {
    const ids = artifactIds.slice(i, i + batchSize).filter((id) => !byId.has(id));
    if (ids.length === 0) continue;
    const rows = await db.query<WalkRow>(UNION_WALK_SQL, [JSON.stringify(ids)]);
    for (const row of rows) byId.set(row.artifact_id, row);
  }
  const chains = new Map<string, Chain | ReplayError>();
  for (const target of artifactIds) {
    const own: WalkRow[] = [];
    const seen = new Set<string>();
    const stack = [target];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      const row = byId.get(id);
      if (row === undefined) continue;
      own.push(row);
      stack.push(...consumedIds(row));
    }
    try {
      chains.set(target, chainFromRows(own, target));
    } catch (error) {
      if (!(error instanceof ReplayError) || error.code !== "REGISTRY_DATA") throw error;
      chains.set(target, error);
    }
  }
  return chains;
}

function chainFromRows(rows: readonly WalkRow[], artifactId: string): Chain {
  const parsed = parseRows(rows);
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
    checkInputs(step, parsed.inputs.get(step.id) ?? [], problems);
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
  const artifactOf = (id: string) => artifacts.get(id) as Artifact; // every reference was checked above
  const chainSteps = order.map((id): ChainStep => {
    const step = byId.get(id) as Step;
    const multiInput = step.inputRows.length > 0;
    const inputs: ChainInput[] = multiInput
      ? step.inputRows.map((r) => ({ name: r.name, artifact: artifactOf(r.artifactId) }))
      : step.sourceArtifactId === null
        ? []
        : [{ name: "source", artifact: artifactOf(step.sourceArtifactId) }];
    return {
      step,
      target: artifactOf(step.targetArtifactId),
      inputs,
      multiInput,
      environment: environmentStateOf(step.envHash, parsed.environments),
      upstreamStepIds: [...new Set(dependencies.get(id) ?? [])],
    };
  });
  const unproducedArtifacts = [...artifacts.values()]
    .filter((a) => !producers.has(a.id))
    .sort((a, b) => compareIds(a.id, b.id));
  return { target, steps: chainSteps, artifacts, unproducedArtifacts };
}
