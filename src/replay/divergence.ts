/**
 * First divergence: a step whose inputs matched what was recorded but whose output did not
 * is where reproduction broke ("origin"); mismatches downstream of it only inherit it.
 */
import type { ManifestStep } from "./manifest.js";

export function markDivergence(
  steps: ManifestStep[],
  upstreamOf: ReadonlyMap<string, readonly string[]>,
): { step_id: string; reason: string } | null {
  const byId = new Map(steps.map((s) => [s.step_id, s]));
  const originsAbove = new Map<string, string | null>();

  // The first origin upstream of a step (steps are in topological order, so parents come first).
  const firstOriginUpstream = (id: string): string | null => {
    const cached = originsAbove.get(id);
    if (cached !== undefined) return cached;
    let found: string | null = null;
    for (const parent of upstreamOf.get(id) ?? []) {
      const row = byId.get(parent);
      if (row === undefined) continue;
      const candidate =
        row.divergence === "origin" ? row.step_id : (row.inherited_from ?? firstOriginUpstream(parent));
      if (candidate !== null) {
        found = candidate;
        break;
      }
    }
    originsAbove.set(id, found);
    return found;
  };

  let first: { step_id: string; reason: string } | null = null;
  for (const row of steps) {
    if (row.status !== "mismatch") continue;
    const inputsMatched = row.input_hash !== null && row.input_hash === row.input_hash_replayed;
    const upstreamOrigin = firstOriginUpstream(row.step_id);
    const fedByReplayedInput = row.inputs.some((i) => i.origin === "replayed");
    if (!inputsMatched && upstreamOrigin !== null && fedByReplayedInput) {
      row.divergence = "inherited";
      row.inherited_from = upstreamOrigin;
      row.reason = `${row.reason ?? "output differs"} (inherited from ${upstreamOrigin})`;
    } else {
      row.divergence = "origin";
      first ??= { step_id: row.step_id, reason: row.reason ?? "output differs" };
    }
  }
  return first;
}
