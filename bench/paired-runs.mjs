// Runs two commands alternately (A, B, A, B, ...) so that the load of a shared machine falls on
// both alike, and prints each one's median wall-clock time and the median of the paired
// differences B - A, with its interquartile range.
//   node bench/paired-runs.mjs RUNS "name A" "command A" "name B" "command B" [prepare command]
import { spawnSync } from "node:child_process";

const [, , runsArg, nameA, commandA, nameB, commandB, prepare] = process.argv;
const runs = Number(runsArg);
const timeOf = (command) => {
  if (prepare) spawnSync("bash", ["-c", prepare], { stdio: "ignore" });
  const t0 = process.hrtime.bigint();
  const r = spawnSync("bash", ["-c", command], { stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${command}: exit ${r.status}`);
  return ms;
};
const a = [];
const b = [];
timeOf(commandA); // warm-up: file caches, images
timeOf(commandB);
for (let i = 0; i < runs; i++) {
  if (i % 2 === 0) {
    a.push(timeOf(commandA));
    b.push(timeOf(commandB));
  } else {
    b.push(timeOf(commandB));
    a.push(timeOf(commandA));
  }
}
const q = (xs, p) => {
  const s = [...xs].sort((x, y) => x - y);
  const i = (s.length - 1) * p;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};
const d = a.map((x, i) => b[i] - x);
const f = (x) => x.toFixed(1);
console.log(`| ${runs} pairs | median ms | IQR ms |`);
console.log("|---|---|---|");
console.log(`| ${nameA} | ${f(q(a, 0.5))} | ${f(q(a, 0.25))} – ${f(q(a, 0.75))} |`);
console.log(`| ${nameB} | ${f(q(b, 0.5))} | ${f(q(b, 0.25))} – ${f(q(b, 0.75))} |`);
console.log(`| ${nameB} − ${nameA}, paired | ${f(q(d, 0.5))} | ${f(q(d, 0.25))} – ${f(q(d, 0.75))} |`);
