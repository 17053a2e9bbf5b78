import { afterEach, describe, expect, it } from "vitest";
import { artifactRowSchema, parseRow, parseRowOrThrow, stepRowSchema } from "../../src/chain/index.js";
import { ReplayError } from "../../src/errors/index.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { CREATED_AT, fixtureFor, pinCreatedAt } from "./chain-fixtures.js";

describe.each(BACKENDS)("row schemas on %s", (backend) => {
  let registry: TestRegistry | undefined;
  afterEach(async () => {
    await registry?.dispose();
    registry = undefined;
  });

  it("map native rows (Date, int8) and to_jsonb rows (text) to the same values", async () => {
    const r = await createTestRegistry(backend);
    registry = r;
    const { native, json } = await r.with(async (db) => {
      const f = fixtureFor(r, db);
      await f.artifact("a", "payload", { title: "A", mediaType: "text/plain" });
      await f.step({ id: "s", source: "a", target: "a", stepType: "fork" });
      await pinCreatedAt(db);
      return {
        native: await db.query(`SELECT * FROM artifacts`),
        json: await db.query<{ row: unknown }>(`SELECT to_jsonb(a) AS row FROM artifacts a`),
      };
    });
    const expected = {
      id: "a",
      artifactType: "dataset",
      title: "A",
      contentHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
      sizeBytes: 7,
      mediaType: "text/plain",
      createdAt: new Date(CREATED_AT),
      metadata: {},
    };
    expect(parseRowOrThrow(artifactRowSchema, "artifacts", "a", native[0])).toEqual(expected);
    expect(parseRowOrThrow(artifactRowSchema, "artifacts", "a", json[0]!.row)).toEqual(expected);
  });
});

describe("row schema errors", () => {
  it("name the table, row and column, and what was found", () => {
    const parsed = parseRow(stepRowSchema, "processing_steps", "s-1", {
      id: "s-1",
      source_artifact_id: null,
      target_artifact_id: "t",
      step_type: "fork",
      method: "m",
      parameters: {},
      input_hash: null,
      env_hash: "sha256:ABC",
      trace_id: null,
      started_at: "not a date",
      completed_at: null,
    });
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems.map((p) => [p.table, p.rowId, p.column])).toEqual([
      ["processing_steps", "s-1", "env_hash"],
      ["processing_steps", "s-1", "started_at"],
    ]);
    const error = (() => {
      try {
        parseRowOrThrow(artifactRowSchema, "artifacts", "x", { id: "x", content_hash: 5 });
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ReplayError);
    expect((error as ReplayError).code).toBe("REGISTRY_DATA");
    expect((error as ReplayError).message).toContain(`artifacts row "x": column content_hash`);
    expect((error as ReplayError).message).toContain("(found 5)");
  });
});

describe("row schemas' fast shapes", () => {
  // parseRow checks the common case with plain zod types first (a batch walk validates
  // 100,000s of rows); it must give exactly what the full schema gives, for every row.
  const HASH = `sha256:${"ab".repeat(32)}`;
  const times: unknown[] = [
    "2026-01-02T03:04:05.678+00:00",
    "2026-01-02T03:04:05.678901+02:00",
    "1900-01-01T00:00:00+00:19:32",
    "4713-01-01T00:00:00+00:00 BC",
    "294276-12-31T00:00:00+00:00",
    "infinity",
    "-infinity",
    "not a date",
    "",
    new Date("2026-05-06T07:08:09Z"),
    Infinity,
    0,
    null,
    undefined,
  ];
  const sizes: unknown[] = [7, 0, null, 2 ** 60, 1.5, -3, 7n, "42", "4.2", Number.NaN, undefined];
  const hashes: unknown[] = [HASH, HASH.toUpperCase(), "sha256:abc", null, 5];

  let valid = 0;
  function same(schema: typeof artifactRowSchema | typeof stepRowSchema, raw: unknown): void {
    const full = (schema as typeof artifactRowSchema).safeParse(raw);
    const got = parseRow(schema as typeof artifactRowSchema, "artifacts", "x", raw);
    expect({ raw, ok: got.ok }).toEqual({ raw, ok: full.success });
    if (got.ok && full.success) {
      expect(got.value).toEqual(full.data);
      valid++;
    }
  }

  it("parse every artifacts row as the full schema does", () => {
    valid = 0;
    let checked = 0;
    for (const created_at of times)
      for (const size_bytes of sizes)
        for (const content_hash of hashes) {
          same(artifactRowSchema, {
            id: "a",
            artifact_type: "figure",
            title: null,
            content_hash,
            size_bytes,
            media_type: "image/png",
            created_at,
            metadata: { k: [1] },
          });
          checked++;
        }
    for (const metadata of [{}, [], null, "x", { nested: { a: 1 } }])
      for (const id of ["a", "", 5]) {
        same(artifactRowSchema, {
          id,
          artifact_type: "figure",
          title: "T",
          content_hash: HASH,
          size_bytes: 1,
          media_type: null,
          created_at: times[0],
          metadata,
          extra: "ignored",
        });
        checked++;
      }
    expect(checked).toBe(times.length * sizes.length * hashes.length + 15);
    // Both valid rows and rows refused by some column, so both paths ran.
    expect(valid).toBeGreaterThan(20);
    expect(valid).toBeLessThan(checked - 20);
  });

  it("parse every processing_steps row as the full schema does", () => {
    valid = 0;
    let checked = 0;
    for (const started_at of times)
      for (const completed_at of times)
        for (const env_hash of hashes) {
          same(stepRowSchema, {
            id: "s",
            source_artifact_id: checked % 2 === 0 ? "a" : null,
            target_artifact_id: "t",
            step_type: "transform",
            method: "m.py",
            parameters: checked % 3 === 0 ? undefined : { code_hash: HASH },
            input_hash: checked % 5 === 0 ? null : HASH,
            env_hash,
            trace_id: null,
            started_at,
            completed_at,
          });
          checked++;
        }
    expect(checked).toBe(times.length * times.length * hashes.length);
    expect(valid).toBeGreaterThan(20);
    expect(valid).toBeLessThan(checked - 20);
  });
});
