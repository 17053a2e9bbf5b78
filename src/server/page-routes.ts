/** The web pages and their two static files. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { SqlQueryable } from "../db/index.js";
import { walkChain } from "../chain/index.js";
import type { AppDeps } from "./app-deps.js";
import { readStepDiffFile } from "./diff-files.js";
import { artifactPage } from "./pages/artifact-page.js";
import { seg } from "./pages/html.js";
import { indexPage } from "./pages/index-page.js";
import { replayPage, type DiffText } from "./pages/replay-page.js";
import { APP_CSS } from "./pages/static-css.js";
import { APP_JS } from "./pages/static-js.js";
import { listRecentReplays, listReplaysOf, requireReplay, type ReplayView } from "./replay-store.js";
import { artifactParamsSchema, replayParamsSchema } from "./schemas.js";
import { parseInput } from "./validate.js";

const goQuerySchema = z.object({ artifact: z.string().trim().min(1).max(512) });

/** The text of each built-in diff; diffoscope's reports are framed from their own route instead. */
async function diffsOf(view: ReplayView): Promise<Map<string, DiffText>> {
  const diffs = new Map<string, DiffText>();
  const outDir = view.row.out_dir;
  if (view.manifest === null || outDir === null) return diffs;
  for (const step of view.manifest.steps) {
    if (step.diff === null || step.diff.files.html !== null) continue;
    const diff = await readStepDiffFile(outDir, step.diff, "text", 256 * 1024);
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
