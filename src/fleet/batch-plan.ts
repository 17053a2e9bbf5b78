/**
 * The plan of a batch: the chains of every target (walked together: see walkChains), each
 * target's own replay plan, and the union of their steps in one topological order, each
 * distinct step once. `maxSteps` stops planning when the next target would take the union
 * past the budget: that target and those after it are left out, and named.
 */
import { walkUnion, type ChainUnion } from "../chain/index.js";
import type { Chain, ChainStep } from "../chain/types.js";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import { planFromChain, type ReplayPlan } from "../replay/index.js";

export interface PlannedTarget {
  artifactId: string;
  chain: Chain;
  /**
   * Its own replay plan (frozen inputs, the steps it runs), built when first read: a queued
   * batch never needs it, an in-process one when it checks blobs (--strict) and writes the
   * target's manifest, so planning 10,000 targets does not build 10,000 plans up front.
   */
  readonly plan: ReplayPlan;
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
  const union = await walkUnion(db, artifactIds);
  // By place in the union's order: whether a planned target holds the step, and how many do.
  const dependentsAt = new Int32Array(union.stepCount);
  let planned = 0;
  const targets: PlannedTarget[] = [];
  const leftOut: LeftOutTarget[] = [];
  const broken: BrokenTarget[] = [];
  for (const artifactId of artifactIds) {
    const chain = union.chains.get(artifactId);
    if (chain === undefined) continue; // walkChains returns one chain per id
    if (chain instanceof ReplayError) {
      broken.push({ artifactId, reason: chain.message });
      continue;
    }
    const cut = union.placesOf(artifactId);
    const places = cut ?? placesOf(chain, union);
    if (
      leftOut.length > 0 ||
      (maxSteps !== undefined && planned + places.filter((at) => dependentsAt[at] === 0).length > maxSteps)
    ) {
      leftOut.push({ artifactId, steps: places.length });
      continue;
    }
    for (const at of places) if ((dependentsAt[at] = (dependentsAt[at] as number) + 1) === 1) planned++;
    // A chain cut out by index holds the union's producer of each of its artifacts.
    const producerOf = cut === undefined ? undefined : union.producerOf;
    targets.push(plannedTarget(artifactId, chain, producerOf));
  }
  if (targets.length === 0 && leftOut.length === 0) {
    // Nothing to replay at all: the one chain's own error, as `rerun` of it gives (exit 4).
    const error = union.chains.get(broken[0]?.artifactId ?? "");
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
  // In place order, the planned steps are producers first (walkUnion says why).
  const steps: ChainStep[] = [];
  const counts: number[] = [];
  dependentsAt.forEach((count, at) => {
    if (count === 0) return;
    steps.push(union.stepAt(at));
    counts.push(count);
  });
  let dependents: Map<string, number> | undefined;
  return {
    targets,
    leftOut,
    broken,
    steps,
    // A map of 100,000s of ids, built when first read (for batch.json, or the queued steps' rows).
    get dependents() {
      dependents ??= new Map(steps.map((cs, i) => [cs.step.id, counts[i] as number]));
      return dependents;
    },
  };
}

function plannedTarget(
  artifactId: string,
  chain: Chain,
  producerOf: ((artifactId: string) => ChainStep | undefined) | undefined,
): PlannedTarget {
  let plan: ReplayPlan | undefined;
  return {
    artifactId,
    chain,
    get plan() {
      plan ??= planFromChain(chain, { artifactId }, producerOf);
      return plan;
    },
  };
}

/** The places of a chain walkUnion did not cut out by index (chainFromRows built it). */
function placesOf(chain: Chain, union: ChainUnion): Int32Array {
  return Int32Array.from(chain.steps, (cs) => {
    const at = union.placeOf(cs.step.id);
    if (at === undefined)
      throw new ReplayError(
        "INTERNAL",
        `Step ${cs.step.id} of a planned chain has no place in the walk's order.`,
      );
    return at;
  });
}
