/**
 * The one place that turns errors into HTTP answers: RFC 9457 `application/problem+json` for
 * the API, a small HTML page for the web pages. Never a stack trace to a client: every answer
 * of 500 or more is written to the server's log (serve's stderr) with its stack, and an
 * unexpected error is answered with a generic 500.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ReplayError, stackOf, type ReplayErrorCode } from "../errors/index.js";
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
  SIGNING_KEY: { status: 500, title: "The signing key cannot be used" },
  ATTESTATION_MALFORMED: { status: 422, title: "The attestation is malformed" },
  SIGNATURE_INVALID: { status: 422, title: "The attestation's signature does not verify" },
  UNKNOWN_KEY: { status: 422, title: "The attestation was signed by another key" },
  DIGEST_MISMATCH: { status: 422, title: "A digest of the attestation does not match" },
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

/** Where server errors are written: serve's stderr. */
export type ServerLog = (line: string) => void;

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  log?: ServerLog,
): FastifyReply {
  const { problem, headers, unexpected } = problemOf(error, request.url);
  if (problem.status >= 500) {
    // The URL is the client's text: quoted, so that it cannot write to the terminal.
    const what = `${request.method} ${JSON.stringify(request.url)} answered ${problem.status}`;
    log?.(`${what}${unexpected ? " (unexpected error)" : ""}: ${stackOf(error)}`);
  }
  void reply.code(problem.status).headers(headers);
  if (request.url.startsWith("/api/")) {
    return reply.type("application/problem+json; charset=utf-8").send(JSON.stringify(problem));
  }
  return reply.type("text/html; charset=utf-8").send(errorPage(problem));
}

export function installErrorHandlers(app: FastifyInstance, log?: ServerLog): void {
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error, log));
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
