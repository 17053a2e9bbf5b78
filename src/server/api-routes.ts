/** The JSON API: queue, follow and cancel replays, and read an artifact with its lineage. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { chainToJson, walkChain } from "../chain/index.js";
import { ReplayError } from "../errors/index.js";
import { currentContentHash, readHistory } from "../history/index.js";
import type { AppDeps } from "./app-deps.js";
import { tokenGuard } from "./bearer-auth.js";
import { DIFF_REPORT_CSP, readStepDiffFile, type DiffKind } from "./diff-files.js";
import { HttpProblem } from "./http-problem.js";
import { replayJson } from "./replay-json.js";
import { queueReplay } from "./queue-replay.js";
import { listReplaysOf, requestCancel, requireReplay } from "./replay-store.js";
import { checkContentType } from "./request-guards.js";
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

  // A JSON body (or none) with its media type said: a page of another origin cannot send that
  // without a preflight (request-guards.ts).
  const jsonOnly = (request: FastifyRequest) => {
    checkContentType(request, "application/json");
    return Promise.resolve();
  };

  app.post("/api/artifacts/:id/rerun", { onRequest: [jsonOnly, requireToken] }, async (request, reply) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "params");
    const headers = parseInput(rerunHeadersSchema, request.headers, "headers");
    const body = parseInput(rerunBodySchema, request.body ?? {}, "body");
    const { view, created } = await queueReplay(deps, {
      artifactId: id,
      from: body.from,
      strict: body.strict ?? false,
      diff: body.diff ?? false,
      triage: body.triage === "all" ? "all" : body.triage === true ? "origins" : "off",
      repeat: body.repeat ?? 2,
      idempotencyKey: headers["idempotency-key"],
    });
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
      // Also when a cancel came too late: the replay ran to its end, and its verdict stands.
      const view = await requireReplay(deps.db, id);
      const verdict = view.row.verdict === null ? "" : `, ${view.row.verdict.replace("_", " ")}`;
      throw new HttpProblem(
        409,
        "Already finished",
        `Replay ${id} has already ended (${view.row.status}${verdict}); there is nothing to cancel.`,
        {
          code: "ALREADY_FINISHED",
          hint: `GET /api/replays/${id} has its final state.`,
          details: { replay_id: id, status: view.row.status, verdict: view.row.verdict },
        },
      );
    }
    if (outcome === "not-served") {
      const view = await requireReplay(deps.db, id);
      const { worker_pid: pid, worker_host: host } = view.row;
      throw new HttpProblem(
        409,
        "Not cancellable here",
        `Replay ${id} was started from the command line (process ${pid ?? "?"} on host ${host ?? "?"}); the server cannot stop it.`,
        {
          code: "NOT_SERVED",
          hint: "Stop that `replay-runner rerun` itself (Ctrl-C, or kill -INT <pid> on its host).",
          details: { replay_id: id, status: view.row.status, pid, host },
        },
      );
    }
    // Running here: abort now. Running on another server: its heartbeat picks the request up.
    if (outcome === "cancelling") deps.worker.cancel(id);
    const view = await requireReplay(deps.db, id);
    return reply.code(outcome === "cancelling" ? 202 : 200).send(replayJson(view, { full: true }));
  });

  /** A mismatch's report file, or 404 when that replay has none for that step. */
  async function diffFile(id: string, stepId: string, kind: DiffKind) {
    const view = await requireReplay(deps.db, id);
    const step = view.manifest?.steps.find((s) => s.step_id === stepId);
    const diff =
      step?.diff != null && view.row.out_dir !== null
        ? await readStepDiffFile(view.row.out_dir, step.diff, kind)
        : null;
    if (diff === null) {
      throw new ReplayError("NOT_FOUND", `Replay ${id} has no ${kind} diff for step ${stepId}.`, {
        hint: "Diffs exist for mismatched steps of replays queued with diff: true, while their output folder is kept; HTML and JSON reports only where diffoscope made them.",
        details: { replay_id: id, step_id: stepId },
      });
    }
    return diff;
  }

  app.get("/api/replays/:id/diffs/:stepId", async (request, reply) => {
    const { id, stepId } = parseInput(diffParamsSchema, request.params, "params");
    const diff = await diffFile(id, stepId, "text");
    return reply.type("text/plain; charset=utf-8").send(diff.text);
  });

  app.get("/api/replays/:id/diffs/:stepId/json", async (request, reply) => {
    const { id, stepId } = parseInput(diffParamsSchema, request.params, "params");
    const diff = await diffFile(id, stepId, "json");
    return reply.type("application/json; charset=utf-8").send(diff.text);
  });

  // diffoscope's HTML quotes the payloads: hostile markup. Its own policy: a sandbox (an opaque
  // origin, no script, no form, no navigation of the page), nothing loaded but inline styles and
  // data: images, framed only by our own pages.
  app.get("/api/replays/:id/diffs/:stepId/html", async (request, reply) => {
    const { id, stepId } = parseInput(diffParamsSchema, request.params, "params");
    const diff = await diffFile(id, stepId, "html");
    return reply
      .type("text/html; charset=utf-8")
      .header("Content-Security-Policy", DIFF_REPORT_CSP)
      .header("Cross-Origin-Resource-Policy", "same-origin")
      .send(diff.text);
  });

  app.get("/api/artifacts/:id", async (request) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "params");
    const chain = await walkChain(deps.db, id);
    const lineage = chainToJson(chain);
    const replays = await listReplaysOf(deps.db, id);
    return { artifact: lineage.target, lineage, replays: replays.map((v) => replayJson(v, { full: false })) };
  });

  app.get("/api/artifacts/:id/history", async (request) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "params");
    const contentHash = await currentContentHash(deps.db, id);
    return { artifact_id: id, content_hash: contentHash, history: await readHistory(deps.db, id) };
  });
}
