/**
 * The API of batches: POST /api/verifications (a `verify` over HTTP), GET /api/verifications/:id
 * and DELETE /api/verifications/:id (cancel a queued batch, as `verify --cancel`).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { batchProgress, cancelBatch, endedState } from "../fleet/index.js";
import type { AppDeps } from "./app-deps.js";
import { tokenGuard } from "./bearer-auth.js";
import { HttpProblem } from "./http-problem.js";
import { checkContentType } from "./request-guards.js";
import { verificationBodySchema, verificationParamsSchema } from "./schemas.js";
import { parseInput } from "./validate.js";

export function registerVerificationRoutes(app: FastifyInstance, deps: AppDeps): void {
  const requireToken = tokenGuard(deps.apiToken);
  const jsonOnly = (request: FastifyRequest) => {
    checkContentType(request, "application/json");
    return Promise.resolve();
  };

  app.post("/api/verifications", { onRequest: [jsonOnly, requireToken] }, async (request, reply) => {
    const runner = deps.verifications;
    if (runner === undefined)
      throw new HttpProblem(503, "Not available", "This server takes no batches.", {
        code: "NOT_AVAILABLE",
        hint: "Start it with replay-runner serve.",
      });
    const body = parseInput(verificationBodySchema, request.body ?? {}, "body");
    const ids = body.artifact_ids ?? [];
    const submitted = await runner.submit({
      selection: {
        artifactIds: ids,
        all: body.all === true || ids.length === 0,
        type: body.type,
        recordedSince: body.recorded_since === undefined ? undefined : new Date(body.recorded_since),
        sample:
          body.sample === undefined || body.seed === undefined
            ? undefined
            : { size: body.sample, seed: body.seed },
      },
      maxSteps: body.max_steps,
      strict: body.strict ?? false,
      diff: body.diff ?? false,
    });
    const statusUrl = `/api/verifications/${encodeURIComponent(submitted.batchId)}`;
    return reply.code(202).header("Location", statusUrl).send({
      verification_id: submitted.batchId,
      status_url: statusUrl,
      // true: stored for workers (PostgreSQL); false: running in this server (embedded registry).
      queued: submitted.queued,
    });
  });

  app.get("/api/verifications/:id", async (request) => {
    const { id } = parseInput(verificationParamsSchema, request.params, "params");
    return batchProgress(deps.db, id);
  });

  app.delete("/api/verifications/:id", { onRequest: requireToken }, async (request) => {
    const { id } = parseInput(verificationParamsSchema, request.params, "params");
    const result = await cancelBatch(deps.db, id, "cancelled (DELETE /api/verifications/:id)");
    if (result.outcome === "ended") {
      const p = result.progress;
      throw new HttpProblem(
        409,
        "Already ended",
        `Batch ${id} has already ended (${endedState(p)}); there is nothing to cancel.`,
        {
          code: "ALREADY_FINISHED",
          hint: `GET /api/verifications/${id} has its final state.`,
          details: { verification_id: id, status: p.status, verdict: p.verdict },
        },
      );
    }
    if (result.outcome === "in-process") {
      throw new HttpProblem(
        409,
        "Not cancellable here",
        `Batch ${id} runs in one process (pid ${result.pid ?? "?"} on host ${result.host ?? "?"}), not on workers; only queued batches can be cancelled.`,
        {
          code: "NOT_QUEUED",
          hint: "Stop that process itself (Ctrl-C, or kill -INT <pid> on its host): the batch then ends interrupted.",
          details: { verification_id: id, pid: result.pid, host: result.host },
        },
      );
    }
    return result.progress;
  });
}
