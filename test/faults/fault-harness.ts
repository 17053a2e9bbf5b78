/**
 * What every fault case asserts besides its own outcome: nothing was lost. The registry's four
 * contract tables are byte-for-byte what they were, the engine holds nothing of the CLI process
 * that ran, and the output folder holds no temporary file or lock.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { LABEL, connectDockerEngine, labelFilter } from "../../src/runner/index.js";
import { readManifest as readValidManifest } from "../support/manifest-schema.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import type { TestRegistry } from "../support/test-registry.js";

export const faultEngine = connectDockerEngine();

// Each row as PostgreSQL's text of it: a row holding JSON thousands of levels deep must not
// need a recursive JSON.stringify here.
const CONTRACT_TABLES = [
  "SELECT t::text AS row FROM artifacts t ORDER BY id",
  "SELECT t::text AS row FROM environments t ORDER BY env_hash",
  "SELECT t::text AS row FROM processing_steps t ORDER BY id",
  "SELECT t::text AS row FROM processing_step_inputs t ORDER BY step_id, position",
];

/** A digest of the contract tables' contents: any insert, update or delete changes it. */
export async function registryDigest(registry: TestRegistry): Promise<string> {
  return registry.with(async (db) => {
    const hash = createHash("sha256");
    for (const sql of CONTRACT_TABLES) {
      const rows = await db.query<{ row: string }>(sql);
      hash.update(`${sql}\n${JSON.stringify(rows.map((r) => r.row))}\n`);
    }
    return hash.digest("hex");
  });
}

/** Containers and volumes labelled with this CLI pid (every resource a replay creates has it). */
export async function leftoversOf(
  pid: number | undefined,
): Promise<{ containers: string[]; volumes: string[] }> {
  if (pid === undefined) throw new Error("the CLI process has no pid: it never started");
  const filter = labelFilter(LABEL.pid, String(pid));
  const [containers, volumes] = await Promise.all([
    faultEngine.listContainers([filter]),
    faultEngine.listVolumes([filter]),
  ]);
  return { containers: containers.map((c) => c.id), volumes: volumes.map((v) => v.id) };
}

/** Partial payloads, temporary manifests and locks anywhere under `dir` (relative paths). */
export async function strayFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [] as string[];
    throw error;
  });
  return entries
    .filter((e) => {
      const base = path.basename(e);
      return base.startsWith(".partial-") || base.includes(".tmp-") || base === ".replay.lock";
    })
    .sort();
}

/** The manifest in `dir`, validated against the published schema. */
export const readManifest = (dir: string): Promise<Manifest> => readValidManifest(dir);

export function rowOf(manifest: Manifest, stepId: string): Manifest["steps"][number] {
  const row = manifest.steps.find((s) => s.step_id === stepId);
  if (row === undefined) throw new Error(`manifest has no row for ${stepId}`);
  return row;
}

export const SLOW_RAW = "a,b\n1,2\n";

/** A step that copies its input after `seconds`: long enough to act on while it runs. */
export function slowCopyScript(seconds: number): string {
  return `import time\ntime.sleep(${seconds})\nopen("/out/output", "wb").write(open("/in/source", "rb").read())\n`;
}

/**
 * Records `raw` (ingest) and `slow` (a transform copying it after `seconds`) and returns the
 * fixture, for cases that add more rows.
 */
export async function recordSlowCopy(
  db: ConstructorParameters<typeof RegistryFixture>[0],
  blobRoot: string,
  seconds: number,
): Promise<RegistryFixture> {
  const f = new RegistryFixture(db, new BlobStore(blobRoot));
  await f.artifact("raw", SLOW_RAW);
  await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
  await f.scriptStep({
    id: "s-slow",
    source: "raw",
    target: "slow",
    payload: SLOW_RAW,
    script: slowCopyScript(seconds),
  });
  return f;
}
