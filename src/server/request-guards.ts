/**
 * What a browser page of another site must not be able to do through a reader's browser:
 * reach the server under another name (DNS rebinding: `Host` is checked on every request),
 * change state (a `fetch(..., {mode: "no-cors"})` or a plain form POST sends no preflight, but
 * always an `Origin`), or pass a body off as JSON (a cross-origin page cannot send
 * `Content-Type: application/json` without a preflight, which this server never answers).
 * Clients that are no browser (curl, scripts) send none of these headers and are not affected.
 */
import type { FastifyRequest } from "fastify";
import type { HostAllowList } from "./host-allow-list.js";
import { HttpProblem } from "./http-problem.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function changesState(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** `host[:port]` lowercase, without the port a scheme implies. */
function normalHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/:(80|443)$/, "");
}

function hostOfUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? normalHost(url.host) : undefined;
  } catch {
    return undefined;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * What the request's headers say about the page that sent it: `same` (this server's own
 * origin), `cross` (another origin, or an opaque `null` one), or `none` (no browser header at
 * all: not a browser, or one too old to say).
 */
export function requestOrigin(request: FastifyRequest): {
  verdict: "same" | "cross" | "none";
  from: string | null;
} {
  const own = normalHost(header(request, "host") ?? "");
  const origin = header(request, "origin");
  if (origin !== undefined) {
    return { verdict: hostOfUrl(origin) === own ? "same" : "cross", from: origin };
  }
  const site = header(request, "sec-fetch-site")?.toLowerCase();
  if (site === "same-origin") return { verdict: "same", from: null };
  if (site === "cross-site" || site === "same-site") return { verdict: "cross", from: `a ${site} page` };
  const referer = header(request, "referer");
  if (referer !== undefined) return { verdict: hostOfUrl(referer) === own ? "same" : "cross", from: referer };
  return { verdict: "none", from: null };
}

function quoted(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** 421 for a `Host` the server is not reached by. */
export function checkHost(request: FastifyRequest, hosts: HostAllowList): void {
  const host = header(request, "host");
  if (hosts.allows(host)) return;
  throw new HttpProblem(
    421,
    "Misdirected request",
    `This server does not answer to the host name ${quoted(host ?? "(none)")}.`,
    {
      code: "UNKNOWN_HOST",
      hint: "Reach it by a name it serves, or start it with --allowed-host <name> (REPLAY_ALLOWED_HOSTS) for the name clients use.",
      details: { host: host ?? null, allowed: hosts.describe() },
    },
  );
}

/** 403 for a state-changing request sent by a page of another origin. */
export function checkSameOrigin(request: FastifyRequest, options: { requireEvidence: boolean }): void {
  const { verdict, from } = requestOrigin(request);
  if (verdict === "same" || (verdict === "none" && !options.requireEvidence)) return;
  throw new HttpProblem(
    403,
    "Cross-origin request refused",
    verdict === "cross"
      ? `${request.method} from ${quoted(from ?? "another origin")} is refused: only this server's own pages may change something here.`
      : `${request.method} without an Origin header is refused here: this form only accepts posts from this server's own pages.`,
    { code: "CROSS_ORIGIN", details: { origin: from } },
  );
}

/** 415 unless the request says its body is of `type` (an empty body too: the header is the proof). */
export function checkContentType(request: FastifyRequest, type: string): void {
  const given = header(request, "content-type");
  const essence = given?.split(";")[0]?.trim().toLowerCase();
  if (essence === type) return;
  throw new HttpProblem(
    415,
    "Unsupported media type",
    `${request.method} ${request.url.split("?")[0] ?? ""} needs Content-Type: ${type}${given === undefined ? "" : `, not ${quoted(given)}`}.`,
    {
      code: "UNSUPPORTED_MEDIA_TYPE",
      hint:
        type === "application/json"
          ? "Send the body as JSON (an empty body is fine: the options are optional)."
          : undefined,
      details: { content_type: given ?? null, expected: type },
    },
  );
}
