/**
 * The README's examples use ids of the form `replay-runner add` prints (issue 12, item 18: a new
 * user copied `fig-3` and `step-42`, which no recorded registry holds).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { newArtifactId, newStepId } from "../../src/record/record-ids.js";

const ARTIFACT_ID = /^art-[0-9a-f]{12}$/;
const STEP_ID = /^step-[0-9a-f]{12}$/;
const ARTIFACT_ARGUMENT = /^replay-runner (?:lineage|rerun|show|fork|cite|verify|history) (\S+)/;

describe("README ids", () => {
  it("have the record commands' form", async () => {
    expect(newArtifactId()).toMatch(ARTIFACT_ID);
    expect(newStepId()).toMatch(STEP_ID);
    const readme = await readFile(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
    const lines = readme.split("\n").filter((line) => line.startsWith("replay-runner "));
    const artifacts = lines
      .flatMap((line) => ARTIFACT_ARGUMENT.exec(line)?.[1] ?? [])
      .filter((id) => !id.startsWith('"$') && !id.startsWith("--"));
    const steps = lines.flatMap((line) => /--from (\S+)/.exec(line)?.[1] ?? []);
    expect(artifacts.length).toBeGreaterThanOrEqual(4);
    expect(steps.length).toBeGreaterThanOrEqual(1);
    expect(artifacts.filter((id) => !ARTIFACT_ID.test(id))).toEqual([]);
    expect(steps.filter((id) => !STEP_ID.test(id))).toEqual([]);
  });
});
