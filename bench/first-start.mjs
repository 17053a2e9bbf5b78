#!/usr/bin/env node
// Benchmark 4: median, min and max of "command start to first container start" per registry,
// from lines "<label> <milliseconds>".
import { readFileSync } from "node:fs";

const by = new Map();
for (const line of readFileSync(process.argv[2], "utf8").split("\n")) {
  const [label, ms] = line.trim().split(/\s+/);
  if (label === undefined || label === "" || ms === undefined) continue;
  by.set(label, [...(by.get(label) ?? []), Number(ms)]);
}
console.log("\n| registry | runs | first container start, median ms | min | max |");
console.log("|---|---|---|---|---|");
for (const [label, xs] of by) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  console.log(`| ${label} | ${s.length} | ${median} | ${s[0]} | ${s[s.length - 1]} |`);
}
