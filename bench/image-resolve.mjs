#!/usr/bin/env node
// Benchmark 6: times replay-runner's image resolution (DockerImageResolver.resolve, the call a
// replay makes per environment) for one recorded environment, n times, each with a fresh
// resolver (no in-process memo): node bench/image-resolve.mjs <env-hash> <n>
// Reads DATABASE_URL and REPLAY_WHEELHOUSE; uses the built dist/.
import { performance } from "node:perf_hooks";
import { openSqlClient } from "../dist/db/index.js";
import { DockerImageResolver } from "../dist/images/index.js";
import { connectDockerEngine } from "../dist/runner/index.js";

const [envHash, n = "1"] = process.argv.slice(2);
const db = await openSqlClient({ databaseUrl: process.env.DATABASE_URL ?? null, embeddedDir: "" });
const [row] = await db.query(
  "SELECT env_hash, base_image, lockfile_kind, requirements_lock FROM environments WHERE env_hash = $1",
  [envHash],
);
await db.close();
if (row === undefined) {
  console.error(`no environment ${envHash}`);
  process.exit(2);
}
const environment = {
  envHash: row.env_hash,
  baseImage: row.base_image,
  lockfileKind: row.lockfile_kind,
  requirementsLock: row.requirements_lock,
};
const engine = connectDockerEngine({});
const times = [];
let built = 0;
let ref = "";
for (let i = 0; i < Number(n); i++) {
  const resolver = new DockerImageResolver({ engine, wheelhouse: process.env.REPLAY_WHEELHOUSE });
  const t0 = performance.now();
  const image = await resolver.resolve(environment);
  times.push(performance.now() - t0);
  if (image.source === "built") built++;
  ref = image.ref;
}
times.sort((a, b) => a - b);
const median = times[times.length >> 1];
console.log(
  `image resolution of ${ref} (${times.length} runs, first includes loading dockerode): median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms, builds ${built}`,
);
