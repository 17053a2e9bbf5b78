/**
 * The plan of a batch: the chains of every target (walked together: see walkChains), each
 * target's own replay plan, and the union of their steps in one topological order, each
 * distinct step once. `maxSteps` stops planning when the next target would take the union
 * past the budget: that target and those after it are left out, and named.
 */
import { walkUnion } from "../chain/index.js";
import type { ChainStep } from "../chain/types.js";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import { planFromChain, type ReplayPlan } from "../replay/index.js";

export interface PlannedTarget {
  artifactId: string;
  plan: ReplayPlan;
}

export interface LeftOutTarget {
  artifactId: string;
  /** Steps in its chain (some may be shared with planned targets). */
  steps: number;
}

/** A target whose registry rows do not form a replayable chain: not replayed, not reproduced. */
export interface BrokenTarget {
  artifactId: string;
  /** What walkChain says is wrong with its rows (the message `rerun` of it alone gives, exit 4). */
  reason: string;
}

export interface BatchPlan {
  targets: PlannedTarget[];
  leftOut: LeftOutTarget[];
  broken: BrokenTarget[];
  /** Every distinct step of the planned targets' chains, producers first. */
  steps: ChainStep[];
  /** How many planned targets depend on each step. */
  dependents: Map<string, number>;
}

export async function planBatch(
  db: SqlQueryable,
  artifactIds: readonly string[],
  maxSteps?: number,
): Promise<BatchPlan> {
  const { chains, stepPosition } = await walkUnion(db, artifactIds);
  const union = new Map<string, ChainStep>();
  const dependents = new Map<string, number>();
  const targets: PlannedTarget[] = [];
  const leftOut: LeftOutTarget[] = [];
  const broken: BrokenTarget[] = [];
  for (const artifactId of artifactIds) {
    const chain = chains.get(artifactId);
    if (chain === undefined) continue; // walkChains returns one chain per id
    if (chain instanceof ReplayError) {
      broken.push({ artifactId, reason: chain.message });
      continue;
    }
    if (leftOut.length > 0) {
      leftOut.push({ artifactId, steps: chain.steps.length });
      continue;
    }
    if (
      maxSteps !== undefined &&
      union.size + chain.steps.filter((cs) => !union.has(cs.step.id)).length > maxSteps
    ) {
      leftOut.push({ artifactId, steps: chain.steps.length });
      continue;
    }
    for (const cs of chain.steps) {
      union.set(cs.step.id, cs);
      dependents.set(cs.step.id, (dependents.get(cs.step.id) ?? 0) + 1);
    }
    targets.push({ artifactId, plan: planFromChain(chain, { artifactId }) });
  }
  if (targets.length === 0 && leftOut.length === 0) {
    // Nothing to replay at all: the one chain's own error, as `rerun` of it gives (exit 4).
    const error = chains.get(broken[0]?.artifactId ?? "");
    if (error instanceof ReplayError) throw error;
  }
  if (targets.length === 0) {
    const first = leftOut[0];
    throw new ReplayError(
      "USAGE",
      `--max-steps ${maxSteps ?? 0} leaves nothing to verify: the first target, ${first?.artifactId ?? "?"}, alone has ${first?.steps ?? 0} step(s).`,
      { hint: "Raise --max-steps, or select fewer or smaller targets.", details: { max_steps: maxSteps } },
    );
  }
  return { targets, leftOut, broken, steps: orderOf(union, stepPosition), dependents };
}

/**
 * The planned steps producers first: by the walk's union order, which is topologicalOrder's
 * for them (walkUnion says why, and that every step of a chain it returns has a place).
 */
function orderOf(union: ReadonlyMap<string, ChainStep>, position: ReadonlyMap<string, number>): ChainStep[] {
  const at = (cs: ChainStep): number => {
    const place = position.get(cs.step.id);
    if (place === undefined)
      throw new ReplayError(
        "INTERNAL",
        `Step ${cs.step.id} of a planned chain has no place in the walk's order.`,
      );
    return place;
  };
  return [...union.values()].sort((a, b) => at(a) - at(b));
}
