/**
 * The one place that turns errors into HTTP answers: RFC 9457 `application/problem+json` for
 * the API, a small HTML page for the web pages. Never a stack trace: unexpected errors are
 * logged and answered with a generic 500.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ReplayError, type ReplayErrorCode } from "../errors/index.js";
import { HttpProblem } from "./http-problem.js";
import { errorPage } from "./pages/error-page.js";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  hint?: string | undefined;
  instance?: string | undefined;
  [member: string]: unknown;
}

const STATUS_OF: Record<ReplayErrorCode, { status: number; title: string }> = {
  USAGE: { status: 400, title: "Bad request" },
  NOT_FOUND: { status: 404, title: "Not found" },
  REGISTRY_DATA: { status: 422, title: "The registry's rows do not form a replayable chain" },
  INTEGRITY: { status: 422, title: "A frozen input cannot be trusted" },
  STEP_FAILED: { status: 422, title: "A step failed" },
  DATABASE_UNAVAILABLE: { status: 503, title: "The registry database is unavailable" },
  DOCKER_UNAVAILABLE: { status: 503, title: "The Docker engine is unavailable" },
  IMAGE_BUILD: { status: 503, title: "An environment image could not be built" },
  IMAGE_REGISTRY: { status: 503, title: "The image registry is unavailable" },
  OUTPUT: { status: 500, title: "The output folder cannot be written" },
  INTERRUPTED: { status: 409, title: "Interrupted" },
  INTERNAL: { status: 500, title: "Internal error" },
};

function kebab(code: string): string {
  return code.toLowerCase().replace(/_/g, "-");
}

export function problemOf(
  error: unknown,
  instance: string,
): { problem: Problem; headers: Record<string, string>; unexpected: boolean } {
  if (error instanceof ReplayError) {
    const { status, title } = STATUS_OF[error.code];
    const detail =
      error.code === "INTERNAL"
        ? "An internal error occurred; the server log has the details."
        : error.message;
    return {
      problem: {
        type: `urn:replay-runner:problem:${kebab(error.code)}`,
        title,
        status,
        detail,
        code: error.code,
        hint: error.hint,
        instance,
        ...(error.code === "INTERNAL" ? {} : { details: error.details }),
      },
      headers: {},
      unexpected: error.code === "INTERNAL",
    };
  }
  if (error instanceof HttpProblem) {
    const code = error.extra.code ?? `HTTP_${error.status}`;
    return {
      problem: {
        type: `urn:replay-runner:problem:${kebab(code)}`,
        title: error.title,
        status: error.status,
        detail: error.message,
        code,
        hint: error.extra.hint,
        instance,
        ...(error.extra.details === undefined ? {} : { details: error.extra.details }),
      },
      headers: error.extra.headers ?? {},
      unexpected: false,
    };
  }
  // Fastify's own client errors (unsupported media type, body too large, ...) carry a 4xx.
  const status = (error as FastifyError | undefined)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return {
      problem: {
        type: `urn:replay-runner:problem:http-${status}`,
        title: "Bad request",
        status,
        detail: (error as Error).message,
        code: `HTTP_${status}`,
        instance,
      },
      headers: {},
      unexpected: false,
    };
  }
  return {
    problem: {
      type: "urn:replay-runner:problem:internal",
      title: "Internal error",
      status: 500,
      detail: "An internal error occurred; the server log has the details.",
      code: "INTERNAL",
      instance,
    },
    headers: {},
    unexpected: true,
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const { problem, headers, unexpected } = problemOf(error, request.url);
  if (unexpected) request.log.error({ err: error }, "unexpected error");
  void reply.code(problem.status).headers(headers);
  if (request.url.startsWith("/api/")) {
    return reply.type("application/problem+json; charset=utf-8").send(JSON.stringify(problem));
  }
  return reply.type("text/html; charset=utf-8").send(errorPage(problem));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new HttpProblem(
        404,
        "Not found",
        `Nothing is served at ${request.method} ${request.url.split("?")[0] ?? ""}.`,
      ),
    ),
  );
}
