/**
 * The bearer token of the endpoints that change something. Compared in constant time (as
 * digests, so the length does not leak either). Without a configured token the server
 * listens on loopback only (serve-runtime.ts) and these endpoints are open to local users.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { HttpProblem } from "./http-problem.js";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** A token given another way than the header (the page's form): the same constant-time check. */
export function tokenMatches(token: string, given: string | undefined): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

export function tokenGuard(token: string | undefined): (request: FastifyRequest) => Promise<void> {
  const expected = token === undefined ? undefined : digest(token);
  return (request) => {
    if (expected === undefined) return Promise.resolve();
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const challenge = { "WWW-Authenticate": 'Bearer realm="replay-runner"' };
    if (match?.[1] === undefined) {
      return Promise.reject(
        new HttpProblem(
          401,
          "Unauthorized",
          "This endpoint needs a bearer token: Authorization: Bearer <REPLAY_API_TOKEN>.",
          {
            code: "UNAUTHORIZED",
            headers: challenge,
          },
        ),
      );
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      return Promise.reject(
        new HttpProblem(
          401,
          "Unauthorized",
          "The bearer token is not the one this server was started with.",
          {
            code: "UNAUTHORIZED",
            headers: challenge,
          },
        ),
      );
    }
    return Promise.resolve();
  };
}

/** The same token, as the artifact page's form sends it (a `token` field: a form cannot set headers). */
export function checkFormToken(token: string | undefined, given: unknown): void {
  if (token === undefined) return;
  if (typeof given !== "string" || given === "") {
    throw new HttpProblem(
      401,
      "Unauthorized",
      "This server needs its API token to start a replay: fill in the API token field.",
      {
        code: "UNAUTHORIZED",
      },
    );
  }
  if (!timingSafeEqual(digest(given), digest(token))) {
    throw new HttpProblem(401, "Unauthorized", "The API token is not the one this server was started with.", {
      code: "UNAUTHORIZED",
    });
  }
}
