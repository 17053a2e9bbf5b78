/**
 * The HTTP application: the JSON API, the web pages, one error handler. It only reads and
 * queues; running replays is the worker's (replay-worker.ts), so tests can `inject` into it.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { AppDeps } from "./app-deps.js";
import { registerApiRoutes } from "./api-routes.js";
import { registerVerificationRoutes } from "./verification-routes.js";
import { registerBadgeRoutes } from "./badge-routes.js";
import { registerEvidenceRoutes } from "./evidence-routes.js";
import { HttpProblem } from "./http-problem.js";
import { registerPageRoutes } from "./page-routes.js";
import { changesState, checkHost, checkSameOrigin } from "./request-guards.js";
import { installErrorHandlers } from "./problem-details.js";

/** Registry data ends up in pages; the policy forbids any script or style the server did not serve. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 16 * 1024, return503OnClosing: true });

  // The rerun body is optional: an empty JSON body means "no options", bad JSON is a 400 problem.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, text, done) => {
    const source = typeof text === "string" ? text : text.toString("utf8");
    if (source.trim() === "") {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(source) as unknown);
    } catch (error) {
      done(
        new HttpProblem(400, "Bad request", `body: is not valid JSON (${(error as Error).message})`, {
          code: "USAGE",
          details: { field: "", in: "body" },
        }),
        undefined,
      );
    }
  });

  app.addHook("onSend", (_request, reply, payload, done) => {
    void reply.header("X-Content-Type-Options", "nosniff").header("Referrer-Policy", "same-origin");
    // A route with its own policy keeps it (a diffoscope report: diff-files.ts).
    if (
      String(reply.getHeader("content-type") ?? "").startsWith("text/html") &&
      !reply.hasHeader("Content-Security-Policy")
    )
      void reply.header("Content-Security-Policy", CSP);
    done(null, payload);
  });

  // Before anything else: a request under a foreign name, or one that would change state sent by a
  // page of another origin, is refused (request-guards.ts).
  app.addHook("onRequest", (request, _reply, done) => {
    try {
      checkHost(request, deps.hosts);
      if (changesState(request.method)) checkSameOrigin(request, { requireEvidence: false });
      done();
    } catch (error) {
      done(error as Error);
    }
  });

  // The artifact page's Rerun form, posted without JavaScript (page-routes.ts).
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, text, done) => {
      const source = typeof text === "string" ? text : text.toString("utf8");
      done(null, Object.fromEntries(new URLSearchParams(source)));
    },
  );

  installErrorHandlers(app, deps.log);
  registerApiRoutes(app, deps);
  registerVerificationRoutes(app, deps);
  registerPageRoutes(app, deps);
  registerEvidenceRoutes(app, deps);
  registerBadgeRoutes(app, deps);
  return app;
}
