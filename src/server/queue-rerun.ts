/** A rerun request, from the API (JSON) or the artifact page's form: checked, then queued once. */
import path from "node:path";
import { walkChain } from "../chain/index.js";
import { ReplayError } from "../errors/index.js";
import { newReplayId } from "../replay/index.js";
import type { AppDeps } from "./app-deps.js";
import { setJobId, submitReplay, type SubmitResult } from "./replay-store.js";
import type { RerunBody } from "./schemas.js";

export async function queueRerun(
  deps: AppDeps,
  artifactId: string,
  body: RerunBody,
  idempotencyKey: string | undefined,
): Promise<SubmitResult> {
  // 404 for an unknown artifact, 422 for a chain that cannot be replayed, 400 for a --from outside it.
  const chain = await walkChain(deps.db, artifactId);
  if (body.from !== undefined && !chain.steps.some((cs) => cs.step.id === body.from)) {
    throw new ReplayError("USAGE", `body.from: step ${body.from} is not in the chain behind ${artifactId}.`, {
      hint: `GET /api/artifacts/${encodeURIComponent(artifactId)} lists the steps (lineage.steps[].id).`,
      details: { field: "from", in: "body" },
    });
  }
  const replayId = (deps.newReplayId ?? (() => newReplayId()))();
  const submitted = await submitReplay(deps.db, {
    replayId,
    artifactId,
    options: { from: body.from ?? null, strict: body.strict ?? false, diff: body.diff ?? false },
    outDir: path.join(deps.replaysDir, replayId),
    idempotencyKey,
  });
  if (submitted.created) {
    const jobId = await deps.queue.dispatch(submitted.view.row.id);
    if (jobId !== null) await setJobId(deps.db, submitted.view.row.id, jobId);
  }
  return submitted;
}
