/** The JSON API: queue, follow and cancel replays, and read an artifact with its lineage. */
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { chainToJson, walkChain } from "../chain/index.js";
import { ReplayError } from "../errors/index.js";
import { newReplayId } from "../replay/index.js";
import type { AppDeps } from "./app-deps.js";
import { tokenGuard } from "./bearer-auth.js";
import { readDiffFile } from "./diff-files.js";
import { HttpProblem } from "./http-problem.js";
import { replayJson } from "./replay-json.js";
import { listReplaysOf, requestCancel, requireReplay, setJobId, submitReplay } from "./replay-store.js";
import {
  artifactParamsSchema,
  diffParamsSchema,
  replayParamsSchema,
  rerunBodySchema,
  rerunHeadersSchema,
} from "./schemas.js";
import { parseInput } from "./validate.js";

export function registerApiRoutes(app: FastifyInstance, deps: AppDeps): void {
  const requireToken = tokenGuard(deps.apiToken);
  const makeId = deps.newReplayId ?? (() => newReplayId());

  app.post("/api/artifacts/:id/rerun", { onRequest: requireToken }, async (request, reply) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "params");
    const headers = parseInput(rerunHeadersSchema, request.headers, "headers");
    const body = parseInput(rerunBodySchema, request.body ?? {}, "body");
    // 404 for an unknown artifact, 422 for a chain that cannot be replayed, 400 for a --from outside it.
    const chain = await walkChain(deps.db, id);
    if (body.from !== undefined && !chain.steps.some((cs) => cs.step.id === body.from)) {
      throw new ReplayError("USAGE", `body.from: step ${body.from} is not in the chain behind ${id}.`, {
        hint: `GET /api/artifacts/${encodeURIComponent(id)} lists the steps (lineage.steps[].id).`,
        details: { field: "from", in: "body" },
      });
    }
    const replayId = makeId();
    const { view, created } = await submitReplay(deps.db, {
      replayId,
      artifactId: id,
      options: {
        from: body.from ?? null,
        strict: body.strict ?? false,
        diff: body.diff ?? false,
        triage: body.triage === "all" ? "all" : body.triage === true ? "origins" : "off",
        repeat: body.repeat ?? 2,
      },
      outDir: path.join(deps.replaysDir, replayId),
      idempotencyKey: headers["idempotency-key"],
    });
    if (created) {
      const jobId = await deps.queue.dispatch(view.row.id);
      if (jobId !== null) await setJobId(deps.db, view.row.id, jobId);
    }
    const statusUrl = `/api/replays/${encodeURIComponent(view.row.id)}`;
    return reply
      .code(202)
      .header("Location", statusUrl)
      .send({
        replay_id: view.row.id,
        status_url: statusUrl,
        page_url: `/replays/${encodeURIComponent(view.row.id)}`,
        status: view.row.status,
        // false: an earlier submission's replay (same Idempotency-Key, or still queued/running).
        created,
      });
  });

  app.get("/api/replays/:id", async (request) => {
    const { id } = parseInput(replayParamsSchema, request.params, "params");
    return replayJson(await requireReplay(deps.db, id), { full: true });
  });

  app.delete("/api/replays/:id", { onRequest: requireToken }, async (request, reply) => {
    const { id } = parseInput(replayParamsSchema, request.params, "params");
    await requireReplay(deps.db, id);
    const outcome = await requestCancel(deps.db, id);
    if (outcome === "finished") {
      const view = await requireReplay(deps.db, id);
      throw new HttpProblem(
        409,
        "Already finished",
        `Replay ${id} has already finished (${view.row.status}); there is nothing to cancel.`,
        {
          code: "ALREADY_FINISHED",
          details: { replay_id: id, status: view.row.status },
        },
      );
    }
    // Running here: abort now. Running on another server: its heartbeat picks the request up.
    if (outcome === "cancelling") deps.worker.cancel(id);
    const view = await requireReplay(deps.db, id);
    return reply.code(outcome === "cancelling" ? 202 : 200).send(replayJson(view, { full: true }));
  });

  app.get("/api/replays/:id/diffs/:stepId", async (request, reply) => {
    const { id, stepId } = parseInput(diffParamsSchema, request.params, "params");
    const view = await requireReplay(deps.db, id);
    const step = view.manifest?.steps.find((s) => s.step_id === stepId);
    const diff =
      step?.diff != null && view.row.out_dir !== null
        ? await readDiffFile(view.row.out_dir, step.diff, 8 * 1024 * 1024)
        : null;
    if (diff === null) {
      throw new ReplayError("NOT_FOUND", `Replay ${id} has no diff for step ${stepId}.`, {
        hint: "Diffs exist for mismatched steps of replays queued with diff: true, while their output folder is kept.",
        details: { replay_id: id, step_id: stepId },
      });
    }
    return reply
      .type("text/plain; charset=utf-8")
      .header("X-Content-Type-Options", "nosniff")
      .send(diff.text);
  });

  app.get("/api/artifacts/:id", async (request) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "params");
    const chain = await walkChain(deps.db, id);
    const lineage = chainToJson(chain);
    const replays = await listReplaysOf(deps.db, id);
    return { artifact: lineage.target, lineage, replays: replays.map((v) => replayJson(v, { full: false })) };
  });
}
