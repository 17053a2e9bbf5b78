/**
 * Issue 12, item 3: registry JSON that canonical JSON once failed on with "internal error:
 * Maximum call stack size exceeded" (3000-deep `args` or cite `parameters`, which PostgreSQL
 * stores fine) is replayed correctly; a number JCS cannot encode (`1e400`, which both backends
 * keep exactly in jsonb and JSON.parse turns into Infinity) fails its row with a reason naming
 * the step and the member. A value 100 000 deep is more than either backend here stores
 * (PostgreSQL's parser stops at max_stack_depth, PGlite's earlier), so it is handed to a
 * replay as a registry with a larger stack would: in the walk's JSON, as the driver parses it.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { PROVENANCE_WALK_SQL } from "../../src/chain/index.js";
import { createReplayServices } from "../../src/commands/replay-services.js";
import { resolveSettings } from "../../src/config/index.js";
import type { SqlClient } from "../../src/db/index.js";
import { contentHashOf } from "../../src/hashing/index.js";
import { runReplay } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { ownStderr, runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { leftoversOf, readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

const RAW = "a,b\n1,2\n";
const RAW_HASH = contentHashOf(Buffer.from(RAW));
const PARAMS_TO_OUTPUT = 'open("/out/output", "wb").write(open("/in/params.json", "rb").read())\n';
const JCS_CANNOT =
  "is Infinity, a number JCS cannot encode (JCS numbers are IEEE 754 doubles: a JSON number beyond their range, such as 1e400, reads as Infinity)";

/** [[[ ... 1 ... ]]] and {"a":{"a": ... 1 ... }}, as values and as the text JCS writes for them. */
function deepArray(depth: number): { value: unknown; text: string } {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return { value, text: `${"[".repeat(depth)}1${"]".repeat(depth)}` };
}
function deepObject(depth: number): { value: unknown; text: string } {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return { value, text: `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` };
}
/** A cite step's payload, written by hand: members in code-unit order, then a newline. */
const citation = (deepText: string) => `{"cites":"${RAW_HASH}","deep":${deepText},"doi":"10.1/deep"}\n`;

async function recordDeepSteps(f: RegistryFixture, args: unknown, deep: unknown, texts: [string, string]) {
  await f.artifact("raw", RAW);
  await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
  await f.artifact("cite-deep", citation(texts[0]));
  await f.step({
    id: "s-cite-deep",
    source: "raw",
    target: "cite-deep",
    stepType: "cite",
    parameters: { deep, doi: "10.1/deep" },
  });
  await f.scriptStep({
    id: "s-args-deep",
    source: "raw",
    target: "args-deep",
    payload: texts[1],
    script: PARAMS_TO_OUTPUT,
    parameters: { args },
  });
}

describe.each(BACKENDS)("JSON 3000 deep and numbers JCS cannot encode (%s)", (backend) => {
  let registry: TestRegistry;
  let digestBefore: string;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      const array = deepArray(3000);
      const object = deepObject(3000);
      await recordDeepSteps(f, object.value, array.value, [array.text, object.text]);
      const code = await f.blob(PARAMS_TO_OUTPUT);
      await f.artifact("args-huge", RAW);
      await f.step({ id: "s-args-huge", source: "raw", target: "args-huge", stepType: "transform" });
      await f.artifact("cite-huge", RAW);
      await f.step({ id: "s-cite-huge", source: "raw", target: "cite-huge", stepType: "cite" });
      // 1e400 as jsonb text: JavaScript cannot even write it.
      const set = "UPDATE processing_steps SET parameters = $2::jsonb WHERE id = $1";
      await db.query(set, ["s-args-huge", `{"code_hash": "${code}", "args": {"x": [1e400]}}`]);
      await db.query(set, ["s-cite-huge", '{"doi": "10.1/huge", "n": 1e400}']);
      const ids = ["cite-deep", "args-deep", "args-huge", "cite-huge"];
      await f.artifact("all", "unused");
      await f.step({
        id: "s-all",
        target: "all",
        stepType: "merge",
        inputs: ids.map((id) => ({ name: id, artifactId: id })),
        parameters: { code_hash: await f.blob('open("/out/output", "w").write("unused")\n') },
      });
    });
    digestBefore = await registryDigest(registry);
  });

  afterAll(async () => {
    await registry.dispose();
  });

  it("replays 3000-deep args and cite parameters, and fails each 1e400 row naming step and member", async () => {
    const out = path.join(registry.dir, "out");
    const result = await runCli(["rerun", "all", "--out", out], { env: registry.env, cwd: registry.dir });
    expect(ownStderr(result.stderr)).toBe("");
    const manifest = await readManifest(out);
    expect(rowOf(manifest, "s-cite-deep")).toMatchObject({ ok: true, status: "reproduced", reason: null });
    expect(rowOf(manifest, "s-args-deep")).toMatchObject({ ok: true, status: "reproduced", reason: null });
    expect(rowOf(manifest, "s-args-huge")).toMatchObject({
      ok: false,
      status: "failed",
      reason: `step s-args-huge: parameters.args.x[0] ${JCS_CANNOT}`,
    });
    expect(rowOf(manifest, "s-cite-huge")).toMatchObject({
      ok: false,
      status: "failed",
      reason: `step s-cite-huge: parameters.n ${JCS_CANNOT}`,
    });
    expect(result.code).toBe(1);
    expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out)).toEqual([]);
    expect(await registryDigest(registry)).toBe(digestBefore);
  });
});

describe("JSON 100 000 deep", () => {
  let registry: TestRegistry;
  const DEEP = "@@deep@@";
  const array = deepArray(100_000);
  const object = deepObject(100_000);

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      await recordDeepSteps(new RegistryFixture(db, new BlobStore(registry.blobRoot)), DEEP, DEEP, [
        array.text,
        object.text,
      ]);
    });
  });

  afterAll(async () => {
    await registry.dispose();
  });

  it("is more than PostgreSQL stores here", async () => {
    await registry.with(async (db) => {
      await expect(db.query(`SELECT $1::jsonb AS v`, [array.text])).rejects.toThrow(
        /stack depth limit exceeded/,
      );
    });
  });

  it("is replayed correctly when a registry does hand it over", async () => {
    const db = await registry.open();
    // The walk's rows with the placeholders replaced, parsed as the driver parses jsonb text.
    const walk = async <Row>(rows: Row[]): Promise<Row[]> => {
      const text = JSON.stringify(rows)
        .replace(`"args":${JSON.stringify(DEEP)}`, `"args":${object.text}`)
        .replace(`"deep":${JSON.stringify(DEEP)}`, `"deep":${array.text}`);
      return Promise.resolve(JSON.parse(text) as Row[]);
    };
    const deepDb: SqlClient = {
      backend: db.backend,
      description: db.description,
      get queryCount() {
        return db.queryCount;
      },
      query: async (sql, params) => {
        const rows = await db.query(sql, params);
        return sql === PROVENANCE_WALK_SQL ? walk(rows) : rows;
      },
      exec: (sql) => db.exec(sql),
      transaction: (work) => db.transaction(work),
      close: () => db.close(),
      [Symbol.asyncDispose]: () => db.close(),
    } as SqlClient;
    try {
      const settings = resolveSettings({}, registry.env, registry.dir);
      for (const target of ["cite-deep", "args-deep"]) {
        await using services = await createReplayServices(settings, {
          log: () => undefined,
          runId: `deep-${target}`,
        });
        const manifest = await runReplay(
          {
            db: deepDb,
            blobRoot: registry.blobRoot,
            executor: services.executor,
            images: services.images,
            preflight: () => services.preflight(),
            toolVersion: "test",
          },
          { artifactId: target, outDir: path.join(registry.dir, target) },
        );
        expect(manifest.steps.map((s) => [s.step_id, s.status, s.reason])).toEqual([
          ["s-raw", "verified", null],
          [`s-${target}`, "reproduced", null],
        ]);
      }
    } finally {
      await db.close();
    }
  }, 300_000);
});
