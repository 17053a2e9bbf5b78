/**
 * GET /badges/<artifact-id>.svg: the artifact's latest verdict as a README badge. Cacheable:
 * its ETag holds the artifact's current content_hash and the latest verification, so a new
 * verdict (or a new payload) is a new ETag, and a client that has the current one gets 304.
 */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { currentContentHash, latestVerification } from "../history/index.js";
import type { AppDeps } from "./app-deps.js";
import { badgeSvg } from "./pages/badge-svg.js";
import { idSchema } from "./schemas.js";
import { parseInput } from "./validate.js";

const badgeParamsSchema = z.object({
  file: z
    .string()
    .regex(/\.svg$/, "must be <artifact-id>.svg")
    .transform((file) => file.slice(0, -".svg".length))
    .pipe(idSchema),
});

/** An ETag part: the value itself when it is plain ASCII, else its SHA-256 (registry data). */
function tagPart(value: string): string {
  return /^[A-Za-z0-9:._-]{1,200}$/.test(value)
    ? value
    : `sha256:${createHash("sha256").update(value).digest("hex")}`;
}

export function registerBadgeRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get("/badges/:file", async (request, reply) => {
    const { file: artifactId } = parseInput(badgeParamsSchema, request.params, "params");
    const contentHash = await currentContentHash(deps.db, artifactId);
    const latest = await latestVerification(deps.db, artifactId);
    const state = latest === null ? "never" : `${latest.verdict}-${tagPart(latest.run_id)}`;
    const etag = `"${tagPart(contentHash)}-${state}"`;
    reply
      .header("ETag", etag)
      .header("Cache-Control", "public, max-age=60, must-revalidate")
      .header("Content-Security-Policy", "default-src 'none'")
      .header("X-Content-Type-Options", "nosniff");
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type("image/svg+xml; charset=utf-8").send(badgeSvg(artifactId, latest));
  });
}
