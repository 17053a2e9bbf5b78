#!/usr/bin/env node
// Where a container step's time goes: runs a trivial step (python3 copying 40 bytes) n times
// through replay-runner's DockerStepExecutor with every Engine API call timed, and prints the
// median per call and per step: node bench/step-profile.mjs [n] [host-mounts|archives]
// (default host-mounts, what a replay uses with a local engine). Uses the built dist/.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { DockerStepExecutor, StagingRoot, bytesSource, connectDockerEngine } from "../dist/runner/index.js";

const n = Number(process.argv[2] ?? "20");
const transport = process.argv[3] ?? "host-mounts";
const engine = connectDockerEngine({});
const spent = new Map();
const timed = {};
for (const [name, fn] of Object.entries(engine)) {
  timed[name] = async (...args) => {
    const t0 = performance.now();
    try {
      return await fn(...args);
    } finally {
      spent.set(name, [...(spent.get(name) ?? []), performance.now() - t0]);
    }
  };
}
const dir = await mkdtemp(path.join(os.tmpdir(), "step-profile-"));
const staging = transport === "host-mounts" ? new StagingRoot(path.join(dir, "staging")) : undefined;
const executor = new DockerStepExecutor({ engine: timed, staging });
const code = Buffer.from('open("/out/output", "wb").write(open("/in/source", "rb").read())\n');
const whole = [];
await engine.ping();
for (let i = 0; i < n + 1; i++) {
  const t0 = performance.now();
  const result = await executor.runStep({
    stepId: `profile-${i}`,
    runId: "bench-step-profile",
    image: "replay-base:bookworm",
    command: ["python3", "/code/main.py"],
    inputs: [bytesSource("source", Buffer.from("a small payload carried along\n"))],
    params: Buffer.from("{}"),
    code: bytesSource("main.py", code),
    env: { SOURCE_DATE_EPOCH: "0" },
    timeoutMs: 60_000,
    memoryBytes: 512 * 2 ** 20,
    outputFile: path.join(dir, `out-${i}`),
    maxOutputBytes: 2 ** 20,
  });
  if (result.status !== "succeeded") throw new Error(`step failed: ${result.reason}`);
  // The first step loads dockerode and warms the engine: not counted.
  if (i === 0) spent.clear();
  else whole.push(performance.now() - t0);
}
await executor.settled();
await staging?.dispose();
await rm(dir, { recursive: true, force: true });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(`transport: ${executor.transport}\n`);
console.log(`| engine call | calls per step | median ms |`);
console.log(`|---|---|---|`);
for (const [name, xs] of spent) {
  console.log(`| ${name} | ${(xs.length / n).toFixed(0)} | ${median(xs).toFixed(1)} |`);
}
console.log(`| whole step (runStep) | 1 | ${median(whole).toFixed(1)} |`);
