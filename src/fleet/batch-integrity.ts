/** `verify --strict`: every target's frozen inputs and scripts checked before anything runs, each once. */
import type { BlobStore } from "../blobs/index.js";
import { integrityProblems } from "../replay/index.js";
import type { BatchPlan } from "./batch-plan.js";

export async function integrityProblemsOf(plan: BatchPlan, blobs: BlobStore): Promise<string[]> {
  const problems = new Set<string>();
  for (const target of plan.targets) {
    for (const problem of await integrityProblems(target.plan, blobs)) problems.add(problem);
  }
  return [...problems];
}
