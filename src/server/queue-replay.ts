/**
 * Queues a served replay of an artifact: what POST /api/artifacts/:id/rerun and the page's
 * Rerun form both do. 404 for an unknown artifact, 422 for a chain that cannot be replayed,
 * 400 for a `from` step outside it.
 */
import path from "node:path";
import { walkChain } from "../chain/index.js";
import { ReplayError } from "../errors/index.js";
import { newReplayId } from "../replay/index.js";
import type { TriageScope } from "../diagnose/index.js";
import type { AppDeps } from "./app-deps.js";
import { setJobId, submitReplay, type SubmitResult } from "./replay-store.js";

export interface ReplayRequest {
  artifactId: string;
  from: string | undefined;
  strict: boolean;
  diff: boolean;
  /** Triage the origin mismatches ("origins"), or also the steps that reproduced ("all"). */
  triage: TriageScope;
  /** Repeats per triaged step. */
  repeat: number;
  idempotencyKey: string | undefined;
  /** How the request names `from` in messages (the API: body.from). */
  fromField?: string;
}

export async function queueReplay(deps: AppDeps, request: ReplayRequest): Promise<SubmitResult> {
  const { artifactId, from } = request;
  const chain = await walkChain(deps.db, artifactId);
  if (from !== undefined && !chain.steps.some((cs) => cs.step.id === from)) {
    const field = request.fromField ?? "body.from";
    throw new ReplayError("USAGE", `${field}: step ${from} is not in the chain behind ${artifactId}.`, {
      hint: `GET /api/artifacts/${encodeURIComponent(artifactId)} lists the steps (lineage.steps[].id).`,
      details: { field: "from", in: "body" },
    });
  }
  const replayId = (deps.newReplayId ?? (() => newReplayId()))();
  const submitted = await submitReplay(deps.db, {
    replayId,
    artifactId,
    options: {
      from: from ?? null,
      strict: request.strict,
      diff: request.diff,
      triage: request.triage,
      repeat: request.repeat,
    },
    outDir: path.join(deps.replaysDir, replayId),
    idempotencyKey: request.idempotencyKey,
  });
  if (submitted.created) {
    const jobId = await deps.queue.dispatch(submitted.view.row.id);
    if (jobId !== null) await setJobId(deps.db, submitted.view.row.id, jobId);
  }
  return submitted;
}
