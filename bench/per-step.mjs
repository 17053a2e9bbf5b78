#!/usr/bin/env node
// Benchmark 1b: per-step cost = (median of 20 steps - median of 1 step) / 19, for bare docker
// run and for rerun, from bench/out/01-chain.json (commands named raw-1, raw-20, rerun-1, rerun-20).
import { readFileSync } from "node:fs";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const results = JSON.parse(readFileSync(process.argv[2], "utf8")).results;
const m = (name) => {
  const r = results.find((x) => x.command === name);
  if (r === undefined) throw new Error(`no result named ${name}`);
  return median(r.times);
};
const raw = (m("raw-20") - m("raw-1")) / 19;
const rerun = (m("rerun-20") - m("rerun-1")) / 19;
console.log(
  `\nper step (marginal, (20 - 1) / 19): docker run ${raw.toFixed(3)} s, rerun ${rerun.toFixed(3)} s, ratio ${(rerun / raw).toFixed(2)}×`,
);
console.log(
  `per step (whole command / 20): docker run ${(m("raw-20") / 20).toFixed(3)} s, rerun ${(m("rerun-20") / 20).toFixed(3)} s, ratio ${(m("rerun-20") / m("raw-20")).toFixed(2)}×`,
);
