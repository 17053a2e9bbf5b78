// The shipped CLI (dist/bin/cli.js): tsc's output (dist/) bundled into a few files with
// esbuild, node_modules left outside. Node 20 loads ~80 small ES modules noticeably slower than
// one file: a replay starts ~50 ms sooner, `--version` ~30 ms (bench/RESULTS.md). Modules that
// are imported on demand (the server, the archive code, diff) stay separate chunks, loaded as
// before. Chunks sit beside the entry, two levels below the package root, like dist/<folder>/
// files, so the relative paths the code resolves from import.meta.url stay valid.
import { rm } from "node:fs/promises";
import { build } from "esbuild";

await rm("dist/bin", { recursive: true, force: true }); // no chunks of earlier builds
await build({
  entryPoints: ["dist/cli.js"],
  outdir: "dist/bin",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  chunkNames: "[name]-[hash]",
  logLevel: "warning",
});
