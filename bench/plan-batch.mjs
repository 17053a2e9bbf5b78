#!/usr/bin/env node
// Benchmark 12: plans a `verify --type <type>` batch without running anything, as `verify` does
// before its first step: selectTargets, then planBatch (walkChains: the union of the chains,
// then each target's chain by place) and, with --target-plans, every target's own plan, timed
// apart. verify has no --dry-run; this imports the built dist/ modules, as
// bench/image-resolve.mjs does. Reads DATABASE_URL. Prints one line of JSON: the plan's size,
// the queries sent and the time of each phase (connect includes loading pg).
//   node bench/plan-batch.mjs <artifact-type> [--target-plans]
import { performance } from "node:perf_hooks";
import { openSqlClient } from "../dist/db/index.js";
import { planBatch, selectTargets } from "../dist/fleet/index.js";

const [type, flag] = process.argv.slice(2);
const withTargetPlans = flag === "--target-plans";
if (type === undefined || (flag !== undefined && !withTargetPlans)) {
  console.error("usage: node bench/plan-batch.mjs <artifact-type> [--target-plans]");
  process.exit(2);
}
const t0 = performance.now();
const db = await openSqlClient({ databaseUrl: process.env.DATABASE_URL ?? null, embeddedDir: "" });
try {
  await db.query("SELECT 1");
  const t1 = performance.now();
  const ids = await selectTargets(db, { artifactIds: [], all: true, type });
  const t2 = performance.now();
  const plan = await planBatch(db, ids);
  const t3 = performance.now();
  // Each target's own replay plan is built when first read (an in-process batch reads it for
  // --strict and for the target's manifest; a queued one never): with --target-plans, built
  // here and timed apart, after the plan.
  const targetChainSteps = withTargetPlans
    ? plan.targets.reduce((n, t) => n + t.plan.chain.steps.length, 0)
    : null;
  const t4 = performance.now();
  const ms = (a, b) => Math.round(b - a);
  console.log(
    JSON.stringify({
      selected: ids.length,
      planned: plan.targets.length,
      broken: plan.broken.length,
      distinct_steps: plan.steps.length,
      target_chain_steps: targetChainSteps,
      queries: db.queryCount,
      timings_ms: {
        connect: ms(t0, t1),
        select: ms(t1, t2),
        plan_batch: ms(t2, t3),
        total: ms(t0, t3),
        target_plans: withTargetPlans ? ms(t3, t4) : null,
      },
    }),
  );
} finally {
  await db.close();
}
