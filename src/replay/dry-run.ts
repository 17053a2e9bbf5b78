/**
 * `rerun --dry-run`: the walk, the plan and the integrity checks of a replay, without an
 * engine, containers or an output folder. It shows what a replay would run and what it would
 * take as recorded, and measures the planning cost that benchmark 4 holds to under a second.
 */
import { performance } from "node:perf_hooks";
import type { SqlQueryable } from "../db/index.js";
import { handlerFor } from "../handlers/index.js";
import type { FrozenInput } from "./manifest.js";
import { integrityProblems, planReplay } from "./plan-replay.js";
import { VerifiedBlobs } from "./verified-blobs.js";

export interface DryRunStep {
  step_id: string;
  step_type: string;
  target_artifact_id: string;
  /** How the replay would treat it: the handler's mode, or "unknown" for a type without one. */
  mode: string;
  environment: string;
  env_hash: string | null;
  upstream_step_ids: string[];
}

export interface DryRunPlan {
  target_artifact_id: string;
  from: string | null;
  chain_steps: number;
  steps: DryRunStep[];
  frozen_inputs: FrozenInput[];
  /** What --strict would refuse; empty when every frozen input and script is intact. */
  problems: string[];
  timings_ms: { walk_and_plan: number; integrity_checks: number };
}

export async function dryRunReplay(
  db: SqlQueryable,
  blobRoot: string,
  options: { artifactId: string; from?: string | undefined },
): Promise<DryRunPlan> {
  const t0 = performance.now();
  const blobs = new VerifiedBlobs(blobRoot);
  await blobs.checkRoot();
  const plan = await planReplay(db, options);
  const t1 = performance.now();
  const problems = await integrityProblems(plan, blobs);
  const t2 = performance.now();
  return {
    target_artifact_id: plan.chain.target.id,
    from: options.from ?? null,
    chain_steps: plan.chain.steps.length,
    steps: plan.executed.map((cs) => ({
      step_id: cs.step.id,
      step_type: cs.step.stepType,
      target_artifact_id: cs.target.id,
      mode: handlerFor(cs.step.stepType)?.mode ?? "unknown",
      environment: cs.environment.kind,
      env_hash: cs.step.envHash,
      upstream_step_ids: cs.upstreamStepIds.filter(plan.willRun),
    })),
    frozen_inputs: [...plan.frozen.values()],
    problems,
    timings_ms: { walk_and_plan: Math.round(t1 - t0), integrity_checks: Math.round(t2 - t1) },
  };
}
