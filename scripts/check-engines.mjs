#!/usr/bin/env node
/**
 * Fails when an installed package's `engines.node` shuts out Node 20, which our own `engines`
 * promises (`npm ci` only warns, EBADENGINE, and only for the Node it runs on).
 *
 *   node scripts/check-engines.mjs [project folder]
 *
 * Rules, for every package under node_modules (nested ones too):
 * - it must accept some Node 20 release, whatever Node runs this check (so a CI on Node 22
 *   still catches a `>=22`);
 * - when this check runs on Node 20, it must accept this very version (what EBADENGINE checks);
 * - a runtime dependency (not marked dev in package-lock.json) must accept the lowest version our
 *   own `engines.node` allows: a user installing replay-runner gets exactly those.
 * Prints one line per offending package and exits 1; prints nothing and exits 0 when all pass.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import semver from "semver";

const root = path.resolve(process.argv[2] ?? ".");
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

const own = readJson(path.join(root, "package.json"));
const ownRange = own.engines?.node;
if (typeof ownRange !== "string" || semver.validRange(ownRange) === null) {
  console.log(`package.json: engines.node is missing or not a version range (${String(ownRange)})`);
  process.exit(1);
}
const lowest = semver.minVersion(ownRange)?.version ?? "20.0.0";
const running = process.versions.node;
const onNode20 = semver.major(running) === 20;

const lockFile = path.join(root, "package-lock.json");
const locked = existsSync(lockFile) ? (readJson(lockFile).packages ?? {}) : {};

/** Folders of installed packages below one node_modules, scoped (@a/b) ones included. */
function packagesIn(modules) {
  if (!existsSync(modules)) return [];
  const found = [];
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const dir = path.join(modules, entry.name);
    if (entry.name.startsWith("@")) {
      for (const scoped of readdirSync(dir, { withFileTypes: true })) {
        if (scoped.isDirectory()) found.push(path.join(dir, scoped.name));
      }
    } else found.push(dir);
  }
  return found;
}

const problems = [];
const queue = packagesIn(path.join(root, "node_modules"));
while (queue.length > 0) {
  const dir = queue.shift();
  queue.push(...packagesIn(path.join(dir, "node_modules")));
  const manifest = path.join(dir, "package.json");
  if (!existsSync(manifest)) continue;
  const pkg = readJson(manifest);
  const range = pkg.engines?.node;
  if (typeof range !== "string") continue;
  const where = path.relative(root, dir).split(path.sep).join("/");
  const name = `${pkg.name}@${pkg.version} (${where})`;
  if (semver.validRange(range) === null) {
    problems.push(`${name}: engines.node "${range}" is not a version range`);
    continue;
  }
  const dev = locked[where]?.dev === true;
  if (!semver.intersects(range, "^20.0.0")) {
    problems.push(`${name}: engines.node "${range}" excludes every Node 20 release`);
  } else if (onNode20 && !semver.satisfies(running, range)) {
    problems.push(`${name}: engines.node "${range}" excludes this Node, ${running}`);
  } else if (!dev && !semver.satisfies(lowest, range)) {
    problems.push(
      `${name}: engines.node "${range}" excludes Node ${lowest}, which ${own.name}'s engines.node "${ownRange}" allows`,
    );
  }
}
for (const line of problems.sort()) console.log(line);
process.exit(problems.length > 0 ? 1 : 0);
