#!/usr/bin/env node
// Benchmark 12: plans a `verify --type <type>` batch without running anything, as `verify` does
// before its first step: selectTargets, then planBatch (walkChains: the union of the chains,
// then each target's chain and plan). verify has no --dry-run; this imports the built dist/
// modules, as bench/image-resolve.mjs does. Reads DATABASE_URL. Prints one line of JSON: the
// plan's size, the queries sent and the time of each phase (connect includes loading pg).
//   node bench/plan-batch.mjs <artifact-type>
import { performance } from "node:perf_hooks";
import { openSqlClient } from "../dist/db/index.js";
import { planBatch, selectTargets } from "../dist/fleet/index.js";

const [type] = process.argv.slice(2);
if (type === undefined) {
  console.error("usage: node bench/plan-batch.mjs <artifact-type>");
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
  const ms = (a, b) => Math.round(b - a);
  console.log(
    JSON.stringify({
      selected: ids.length,
      planned: plan.targets.length,
      broken: plan.broken.length,
      distinct_steps: plan.steps.length,
      target_chain_steps: plan.targets.reduce((n, t) => n + t.plan.chain.steps.length, 0),
      queries: db.queryCount,
      timings_ms: { connect: ms(t0, t1), select: ms(t1, t2), plan_batch: ms(t2, t3), total: ms(t0, t3) },
    }),
  );
} finally {
  await db.close();
}
