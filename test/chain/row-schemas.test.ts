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
