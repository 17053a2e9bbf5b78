/* global URL, performance */
// What signing a replay adds inside the process that replays, phase by phase, cold (each sample
// is a fresh `node` process, as each `rerun` is): loading the evidence code (what rerun has loaded
// by then is loaded first, untimed: the CLI's modules, dockerode, PGlite), reading and checking the key, building
// and signing the statement, writing attestation.intoto.json (atomically, fsync included).
// Wall-clock and CPU time (process.cpuUsage: what the process itself spent, which a loaded
// machine inflates less). Uses tsc's output (dist/evidence/, several small files), which loads
// slower than the bundled CLI's single chunk: an upper bound.
//   node bench/signing-cost.mjs <replay out dir with manifest.json> <private key> [samples]
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [, self, outDir, keyFile, samplesArg] = process.argv;
const samples = Number(samplesArg ?? 30);

if (process.env.SIGNING_COST_CHILD === "1") {
  const { readFile } = await import("node:fs/promises");
  const path = await import("node:path");
  await import(new URL("../dist/cli.js", import.meta.url).href);
  await import("dockerode");
  await import("@electric-sql/pglite");
  const { OutDir } = await import(new URL("../dist/replay/index.js", import.meta.url).href);
  const manifestText = await readFile(path.join(outDir, "manifest.json"), "utf8");
  const manifest = JSON.parse(manifestText);
  const out = await OutDir.acquire(outDir, "bench");
  const times = {};
  const phase = async (name, work) => {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const value = await work();
    const used = process.cpuUsage(cpu);
    times[name] = { wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 };
    return value;
  };
  try {
    const { signerFor } = await phase(
      "load",
      () => import(new URL("../dist/evidence/index.js", import.meta.url).href),
    );
    const signer = await phase("key", () => signerFor({ keyFile, toolVersion: "bench", env: {} }));
    const envelope = await phase("sign", () =>
      JSON.stringify(signer.envelopeFor({ manifest, manifestText }), null, 2),
    );
    await phase("write", () => out.writeText("attestation.intoto.json", `${envelope}\n`));
    console.log(JSON.stringify(times));
  } finally {
    await out.release();
  }
  process.exit(0);
}

const rows = [];
for (let i = 0; i < samples; i++) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), outDir, keyFile], {
    env: { ...process.env, SIGNING_COST_CHILD: "1" },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  rows.push(JSON.parse(r.stdout));
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const phases = ["load", "key", "sign", "write"];
const f = (x) => x.toFixed(2);
console.log(`| phase (${samples} cold processes) | wall median ms | wall max ms | CPU median ms |`);
console.log("|---|---|---|---|");
for (const p of phases) {
  const wall = rows.map((r) => r[p].wall);
  console.log(
    `| ${p} | ${f(median(wall))} | ${f(Math.max(...wall))} | ${f(median(rows.map((r) => r[p].cpu)))} |`,
  );
}
const total = (k) => rows.map((r) => phases.reduce((a, p) => a + r[p][k], 0));
console.log(
  `| total | ${f(median(total("wall")))} | ${f(Math.max(...total("wall")))} | ${f(median(total("cpu")))} |`,
);
void self;
