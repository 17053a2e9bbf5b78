/**
 * Where reproduction broke. A mismatching step whose inputs matched what was recorded (or that
 * no diverged step fed) is an *origin*: its own output differs. A mismatch fed by replayed bytes
 * that descend from origins only *inherits* them, and names every one of them: a bundle of three
 * steps that each diverged on their own inherits from all three.
 *
 * A failed step (it could not run) is never an origin: it produced no bytes to compare, and its
 * downstream takes its recorded payload, so nothing inherits from it. A failed step fed by
 * diverged bytes is marked inherited: its failure may come from those bytes.
 */
import type { ManifestStep } from "./manifest.js";

export interface DivergenceOrigin {
  step_id: string;
  reason: string;
}

export interface Divergence {
  /** Every origin, in topological order. */
  origins: DivergenceOrigin[];
  /** The first of them (null when nothing diverged). */
  first: DivergenceOrigin | null;
}

/**
 * Marks `divergence` and `inherited_from` on each row (rows in topological order) and returns the
 * origins. `upstreamOf` lists, per step, the steps of this replay that produced its inputs.
 */
export function markDivergence(
  steps: ManifestStep[],
  upstreamOf: ReadonlyMap<string, readonly string[]>,
): Divergence {
  const byTarget = new Map(steps.map((s) => [s.target_artifact_id, s]));
  const position = new Map(steps.map((s, i) => [s.step_id, i]));
  /** The origins whose bytes reached each step's output (parents come first: one pass). */
  const reaching = new Map<string, ReadonlySet<string>>();
  const origins: DivergenceOrigin[] = [];

  for (const row of steps) {
    // Origins arrive only through inputs that were the parent's replayed bytes; a parent whose
    // output is the recorded one (it reproduced) stops them.
    const above = new Set<string>();
    const parents = new Set(upstreamOf.get(row.step_id) ?? []);
    for (const input of row.inputs) {
      if (input.origin !== "replayed") continue;
      const parent = byTarget.get(input.artifact_id);
      if (parent === undefined || !parents.has(parent.step_id) || parent.ok) continue;
      if (parent.divergence === "origin") above.add(parent.step_id);
      for (const id of reaching.get(parent.step_id) ?? []) above.add(id);
    }
    const inputsMatched = row.input_hash !== null && row.input_hash === row.input_hash_replayed;
    const inheritable = above.size > 0 && !inputsMatched;

    if (row.status === "mismatch" && !inheritable) {
      row.divergence = "origin";
      row.inherited_from = [];
      origins.push({ step_id: row.step_id, reason: row.reason ?? "output differs" });
      reaching.set(row.step_id, new Set());
      continue;
    }
    if ((row.status === "mismatch" || row.status === "failed") && inheritable) {
      const from = [...above].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
      row.divergence = "inherited";
      row.inherited_from = from;
      row.reason = `${row.reason ?? "output differs"} (inherited from ${from.join(", ")})`;
      reaching.set(row.step_id, above);
      continue;
    }
    reaching.set(row.step_id, row.ok ? new Set() : above);
  }
  return { origins, first: origins[0] ?? null };
}
