/**
 * Migration 3 splits a replay's verdict from its status: rows written before it (status
 * succeeded, or failed with a not_reproduced manifest) read finished with their verdict; a
 * replay that could not run stays failed, one interrupted stays interrupted, without verdict.
 */
import { describe, expect, it } from "vitest";
import { MIGRATIONS, migrate } from "../../src/db/index.js";
import { BACKENDS, createTestRegistry } from "../support/test-registry.js";

describe.each(BACKENDS)("migration 3: replay verdicts (%s)", (backend) => {
  it("moves old rows to status + verdict", async () => {
    await using registry = await createTestRegistry(backend);
    await registry.with(async (db) => {
      // Back to the schema of version 2, as an older replay-runner left it.
      await db.exec("ALTER TABLE replay_runner.replays DROP COLUMN verdict");
      await db.query("DELETE FROM replay_runner.schema_migrations WHERE version = 3");
      const rows: [string, string, unknown][] = [
        ["r-20260101T000000-aaaaa1", "succeeded", { status: "reproduced" }],
        ["r-20260101T000000-aaaaa2", "failed", { status: "not_reproduced" }],
        ["r-20260101T000000-aaaaa3", "failed", null],
        ["r-20260101T000000-aaaaa4", "interrupted", { status: "interrupted" }],
        ["r-20260101T000000-aaaaa5", "running", null],
      ];
      for (const [id, status, manifest] of rows) {
        await db.query(
          `INSERT INTO replay_runner.replays (id, target_artifact_id, status, manifest) VALUES ($1, 'x', $2, $3)`,
          [id, status, manifest === null ? null : JSON.stringify(manifest)],
        );
      }
      expect(await migrate(db)).toEqual([3]);
      expect(MIGRATIONS.find((m) => m.version === 3)?.name).toBe("replay verdicts");
      const after = await db.query<{ id: string; status: string; verdict: string | null }>(
        "SELECT id, status, verdict FROM replay_runner.replays ORDER BY id",
      );
      expect(after.map((r) => [r.status, r.verdict])).toEqual([
        ["finished", "reproduced"],
        ["finished", "not_reproduced"],
        ["failed", null],
        ["interrupted", null],
        ["running", null],
      ]);
    });
  });
});
