#!/usr/bin/env node
// Prints median, min and max of hyperfine result files, and ratios against the first command
// of the first file (the baseline): node bench/summarise.mjs out/a.json [out/b.json ...]
import { readFileSync } from "node:fs";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const rows = process.argv.slice(2).flatMap((file) =>
  JSON.parse(readFileSync(file, "utf8")).results.map((r) => ({
    name: r.command,
    median: median(r.times),
    min: Math.min(...r.times),
    max: Math.max(...r.times),
    runs: r.times.length,
  })),
);
const baseline = rows[0];
if (baseline === undefined) {
  console.error("no results");
  process.exit(2);
}
const s = (x) => x.toFixed(3);
console.log("| command | runs | median s | min s | max s | ÷ first |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| \`${r.name}\` | ${r.runs} | ${s(r.median)} | ${s(r.min)} | ${s(r.max)} | ${(r.median / baseline.median).toFixed(2)}× |`,
  );
}
