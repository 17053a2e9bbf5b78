/** The web pages and their two static files. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { SqlQueryable } from "../db/index.js";
import { walkChain } from "../chain/index.js";
import type { AppDeps } from "./app-deps.js";
import { readDiffFile } from "./diff-files.js";
import { artifactPage } from "./pages/artifact-page.js";
import { seg } from "./pages/html.js";
import { indexPage } from "./pages/index-page.js";
import { replayPage, type DiffText } from "./pages/replay-page.js";
import { APP_CSS } from "./pages/static-css.js";
import { APP_JS } from "./pages/static-js.js";
import { listRecentReplays, listReplaysOf, requireReplay, type ReplayView } from "./replay-store.js";
import { checkFormToken } from "./bearer-auth.js";
import { queueRerun } from "./queue-rerun.js";
import { checkContentType, checkSameOrigin } from "./request-guards.js";
import { artifactParamsSchema, idSchema, replayParamsSchema, rerunFormSchema } from "./schemas.js";
import { parseInput } from "./validate.js";

const goQuerySchema = z.object({ artifact: z.string().trim().pipe(idSchema) });

async function diffsOf(view: ReplayView): Promise<Map<string, DiffText>> {
  const diffs = new Map<string, DiffText>();
  const outDir = view.row.out_dir;
  if (view.manifest === null || outDir === null) return diffs;
  for (const step of view.manifest.steps) {
    if (step.diff === null) continue;
    const diff = await readDiffFile(outDir, step.diff);
    if (diff !== null) diffs.set(step.step_id, diff);
  }
  return diffs;
}

export function registerPageRoutes(app: FastifyInstance, deps: AppDeps): void {
  const tokenRequired = deps.apiToken !== undefined;
  const db: SqlQueryable = deps.db;

  app.get("/", async (_request, reply) => {
    return reply.type("text/html; charset=utf-8").send(indexPage(await listRecentReplays(db, 20)));
  });

  app.get("/go", async (request, reply) => {
    const { artifact } = parseInput(goQuerySchema, request.query, "query");
    return reply.redirect(`/artifacts/${seg(artifact)}`, 303);
  });

  app.get("/artifacts/:id", async (request, reply) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "params");
    const chain = await walkChain(db, id);
    const replays = await listReplaysOf(db, id, 20);
    return reply.type("text/html; charset=utf-8").send(artifactPage({ chain, replays, tokenRequired }));
  });

  // The Rerun form without JavaScript: a plain form POST from this server's own pages only (a
  // page of another origin can post forms too, and a form's body is no JSON: app.ts's guard
  // refuses foreign origins, and this route also refuses a post that proves no origin at all).
  app.post("/artifacts/:id/rerun", {
    onRequest: (request, _reply, done) => {
      try {
        checkContentType(request, "application/x-www-form-urlencoded");
        checkSameOrigin(request, { requireEvidence: true });
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    handler: async (request, reply) => {
      const { id } = parseInput(artifactParamsSchema, request.params, "params");
      const form = parseInput(rerunFormSchema, request.body ?? {}, "body");
      checkFormToken(deps.apiToken, form.token);
      const { view } = await queueRerun(
        deps,
        id,
        { from: form.from, strict: form.strict, diff: form.diff },
        form.idempotency_key,
      );
      return reply.redirect(`/replays/${seg(view.row.id)}`, 303);
    },
  });

  app.get("/replays/:id", async (request, reply) => {
    const { id } = parseInput(replayParamsSchema, request.params, "params");
    const view = await requireReplay(db, id);
    return reply
      .type("text/html; charset=utf-8")
      .send(replayPage({ view, diffs: await diffsOf(view), tokenRequired }));
  });

  app.get("/static/app.css", (_request, reply) =>
    reply.type("text/css; charset=utf-8").header("Cache-Control", "no-cache").send(APP_CSS),
  );
  app.get("/static/app.js", (_request, reply) =>
    reply.type("text/javascript; charset=utf-8").header("Cache-Control", "no-cache").send(APP_JS),
  );
}
