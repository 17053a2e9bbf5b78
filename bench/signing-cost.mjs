/* global URL, performance */
// What signing adds inside the process that replays, cold (each sample is a fresh `node`
// process, as each `rerun` is). First what rerun has loaded by then is loaded, untimed (the
// CLI's modules, dockerode, PGlite). Then, wall-clock and CPU time (process.cpuUsage):
//   load   importing the evidence code            } rerun does these while the registry opens,
//   key    reading and checking the private key   } before anything runs
//   manifest        writing manifest.json alone (what an unsigned replay does)
//   manifest+signed building and signing the statement and writing attestation.intoto.json
//                   beside manifest.json, at the same time (what a signed replay does)
//   added           manifest+signed - manifest, in the same process: signing's share of the
//                   replay's critical path
// The two writes alternate in order between samples. tsc's output (dist/, several files) loads
// slower than the bundled CLI's chunk: `load` is an upper bound.
//   node bench/signing-cost.mjs <replay out dir with manifest.json> <private key> [samples]
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [, , outDir, keyFile, samplesArg] = process.argv;
const samples = Number(samplesArg ?? 30);

if (process.env.SIGNING_COST_CHILD !== undefined) {
  const { readFile } = await import("node:fs/promises");
  const path = await import("node:path");
  await import(new URL("../dist/cli.js", import.meta.url).href);
  await import("dockerode");
  await import("@electric-sql/pglite");
  const { OutDir } = await import(new URL("../dist/replay/index.js", import.meta.url).href);
  const manifestText = await readFile(path.join(outDir, "manifest.json"), "utf8");
  const manifest = JSON.parse(manifestText);
  // A folder of its own: the replay's folder already holds a replay, which OutDir refuses
  // to write over (issue 12, item 14); the phases only write manifest.json and the attestation.
  const { mkdtemp, rm } = await import("node:fs/promises");
  const os = await import("node:os");
  const scratch = await mkdtemp(path.join(os.tmpdir(), "signing-cost-"));
  const out = await OutDir.acquire(scratch, "bench");
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
    const unsigned = () => phase("manifest", () => out.writeText("manifest.json", manifestText));
    const signed = () =>
      phase("manifest+signed", () =>
        Promise.all([
          out.writeText("manifest.json", manifestText),
          signer.attest({ manifest, manifestText, out }),
        ]),
      );
    if (process.env.SIGNING_COST_CHILD === "0") {
      await unsigned();
      await signed();
    } else {
      await signed();
      await unsigned();
    }
    times.added = {
      wall: times["manifest+signed"].wall - times.manifest.wall,
      cpu: times["manifest+signed"].cpu - times.manifest.cpu,
    };
    console.log(JSON.stringify(times));
  } finally {
    await out.release();
    await rm(scratch, { recursive: true, force: true });
  }
  process.exit(0);
}

const rows = [];
for (let i = 0; i < samples; i++) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), outDir, keyFile], {
    env: { ...process.env, SIGNING_COST_CHILD: String(i % 2) },
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
const f = (x) => x.toFixed(2);
console.log(`| phase (${samples} cold processes) | wall median ms | wall max ms | CPU median ms |`);
console.log("|---|---|---|---|");
for (const p of ["load", "key", "manifest", "manifest+signed", "added"]) {
  const wall = rows.map((r) => r[p].wall);
  console.log(
    `| ${p} | ${f(median(wall))} | ${f(Math.max(...wall))} | ${f(median(rows.map((r) => r[p].cpu)))} |`,
  );
}
