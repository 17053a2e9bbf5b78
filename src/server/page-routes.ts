/** The web pages, their two static files, payload downloads, and the Rerun form's POST. */
import { createHash, randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { BlobStore } from "../blobs/index.js";
import { walkChain } from "../chain/index.js";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError, isReplayError } from "../errors/index.js";
import { readAttestationSummary } from "../evidence/index.js";
import { isContentHash } from "../hashing/index.js";
import { listBatches } from "../fleet/index.js";
import { readHistory, stoppedReproducing } from "../history/index.js";
import { loadArtifact } from "../record/index.js";
import type { AppDeps } from "./app-deps.js";
import { tokenMatches } from "./bearer-auth.js";
import { readStepDiffFile } from "./diff-files.js";
import { HttpProblem } from "./http-problem.js";
import { openInsideOutDir, type OpenedFile } from "./out-dir-files.js";
import { artifactPage } from "./pages/artifact-page.js";
import { seg } from "./pages/html.js";
import { indexPage } from "./pages/index-page.js";
import { replayPage, type DiffText } from "./pages/replay-page.js";
import { verificationsPage } from "./pages/verifications-page.js";
import { APP_CSS } from "./pages/static-css.js";
import { APP_JS } from "./pages/static-js.js";
import { sendDownload } from "./payload-download.js";
import { queueReplay } from "./queue-replay.js";
import { listRecentReplays, listReplaysOf, requireReplay, type ReplayView } from "./replay-store.js";
import { checkContentType, checkSameOrigin } from "./request-guards.js";
import { artifactParamsSchema, diffParamsSchema, idSchema, replayParamsSchema } from "./schemas.js";
import { parseInput } from "./validate.js";

const goQuerySchema = z.object({ artifact: z.string().trim().pipe(idSchema) });

/** What the page's Rerun form posts (application/x-www-form-urlencoded). */
const rerunFormSchema = z.strictObject({
  from: z.string().max(512).optional(),
  strict: z.literal("on").optional(),
  diff: z.literal("on").optional(),
  triage: z.literal("on").optional(),
  token: z.string().max(4096).optional(),
  idempotency_key: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .optional(),
  form_nonce: z
    .string()
    .regex(/^[0-9a-f]{32}$/, "is not this server's form")
    .optional(),
});

const FORM_TYPE = "application/x-www-form-urlencoded";

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

/**
 * The form posts from this server's own page only: a browser always sends Origin with a POST,
 * and another site's page cannot make it this server's. (The Host names the server answers
 * are checked for every request by app.ts.)
 */
function notFound(message: string, hint: string, details: Record<string, unknown>): ReplayError {
  return new ReplayError("NOT_FOUND", message, { hint, details });
}

/** A blob of the store as an open regular file; null when it is not there. */
async function openBlob(blobRoot: string, contentHash: string): Promise<OpenedFile | null> {
  const handle = await open(new BlobStore(blobRoot).pathFor(contentHash), "r").catch(() => null);
  if (handle === null) return null;
  const info = await handle.stat().catch(() => null);
  if (info?.isFile() !== true) {
    await handle.close();
    return null;
  }
  return { handle, size: info.size };
}

/** The media type recorded for an artifact; null when unknown (or the artifact is gone). */
async function mediaTypeOf(db: SqlQueryable, artifactId: string): Promise<string | null> {
  try {
    return (await loadArtifact(db, artifactId)).mediaType;
  } catch (error) {
    if (isReplayError(error)) return null;
    throw error;
  }
}

const stepPayloadSchema = z.object({ payload: z.string().min(1), output_hash_replayed: z.string() });

export function registerPageRoutes(app: FastifyInstance, deps: AppDeps): void {
  const tokenRequired = deps.apiToken !== undefined;
  const db: SqlQueryable = deps.db;

  app.get("/", async (_request, reply) => {
    return reply.type("text/html; charset=utf-8").send(indexPage(await listRecentReplays(db, 20)));
  });

  app.get("/verifications", async (_request, reply) => {
    const [batches, stopped] = [await listBatches(db, 50), await stoppedReproducing(db)];
    return reply
      .type("text/html; charset=utf-8")
      .header("Cache-Control", "no-store")
      .send(verificationsPage(batches, stopped));
  });

  app.get("/go", async (request, reply) => {
    const { artifact } = parseInput(goQuerySchema, request.query, "query");
    return reply.redirect(`/artifacts/${seg(artifact)}`, 303);
  });

  app.get("/artifacts/:id", async (request, reply) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "params");
    const chain = await walkChain(db, id);
    const replays = await listReplaysOf(db, id, 20);
    const history = await readHistory(db, id, 50);
    const formNonce = randomBytes(16).toString("hex");
    return reply
      .type("text/html; charset=utf-8")
      .header("Cache-Control", "no-store")
      .send(artifactPage({ chain, replays, history, tokenRequired, formNonce }));
  });

  app.get("/artifacts/:id/payload", async (request, reply) => {
    const { id } = parseInput(artifactParamsSchema, request.params, "params");
    const artifact = await loadArtifact(db, id);
    const where = { artifactId: id, contentHash: artifact.contentHash };
    if (!isContentHash(artifact.contentHash)) {
      throw notFound(
        `Artifact ${id} has no payload to download: its content_hash is not sha256: and 64 hex digits.`,
        "Fix the artifacts row; its payload cannot be found in a content-addressed store without it.",
        where,
      );
    }
    const file = deps.blobRoot === undefined ? null : await openBlob(deps.blobRoot, artifact.contentHash);
    if (file === null) {
      throw notFound(
        `The recorded payload of ${id} is not in this server's blob store.`,
        "Restore the blob (its name is the content hash), or start serve with the blob store that holds it (REPLAY_BLOBS, --blobs).",
        where,
      );
    }
    return sendDownload(reply, {
      file,
      contentHash: artifact.contentHash,
      artifactId: id,
      mediaType: artifact.mediaType,
      variant: "recorded",
    });
  });

  app.get("/replays/:id", async (request, reply) => {
    const { id } = parseInput(replayParamsSchema, request.params, "params");
    const view = await requireReplay(db, id);
    const attestation = view.row.out_dir === null ? null : await readAttestationSummary(view.row.out_dir);
    return reply
      .type("text/html; charset=utf-8")
      .send(replayPage({ view, diffs: await diffsOf(view), tokenRequired, attestation }));
  });

  app.get("/replays/:id/steps/:stepId/payload", async (request, reply) => {
    const { id, stepId } = parseInput(diffParamsSchema, request.params, "params");
    const view = await requireReplay(db, id);
    const step = view.manifest?.steps.find((s) => s.step_id === stepId);
    const stored = stepPayloadSchema.safeParse(step);
    const outDir = view.row.out_dir;
    const file =
      stored.success && outDir !== null ? await openInsideOutDir(outDir, stored.data.payload) : null;
    if (step === undefined || !stored.success || file === null) {
      throw notFound(
        `Replay ${id} has no replayed payload for step ${stepId}.`,
        "Only steps that ran have one (not frozen, failed or unreplayable ones), while the replay's output folder is kept.",
        { replay_id: id, step_id: stepId },
      );
    }
    return sendDownload(reply, {
      file,
      contentHash: stored.data.output_hash_replayed,
      artifactId: step.target_artifact_id,
      mediaType: await mediaTypeOf(db, step.target_artifact_id),
      variant: "replayed",
    });
  });

  // The Rerun form without JavaScript: a plain POST, answered with a redirect to the replay.
  // A page of another origin can post forms too: app.ts refuses a foreign Origin, and this
  // route also refuses a post that proves no origin at all.
  app.post("/artifacts/:id/rerun", {
    onRequest: (request, _reply, done) => {
      try {
        checkContentType(request, FORM_TYPE);
        checkSameOrigin(request, { requireEvidence: true });
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    handler: async (request, reply) => {
      const { id } = parseInput(artifactParamsSchema, request.params, "params");
      const form = parseInput(rerunFormSchema, request.body ?? {}, "body");
      if (deps.apiToken !== undefined && !tokenMatches(deps.apiToken, form.token)) {
        throw new HttpProblem(401, "Unauthorized", "The API token is missing or wrong.", {
          code: "UNAUTHORIZED",
          hint: "Go back, enter this server's REPLAY_API_TOKEN in the form's API token field, and press Rerun again.",
        });
      }
      const from = form.from === undefined || form.from === "" ? undefined : form.from;
      const strict = form.strict === "on";
      const diff = form.diff === "on";
      const triage = form.triage === "on" ? "origins" : "off";
      // One replay per page and choice: pressing Rerun twice, or reloading the POST, queues one.
      const idempotencyKey =
        form.form_nonce === undefined
          ? form.idempotency_key
          : `form-${createHash("sha256")
              .update(JSON.stringify([form.form_nonce, id, from ?? null, strict, diff, triage]))
              .digest("hex")
              .slice(0, 40)}`;
      const { view } = await queueReplay(deps, {
        artifactId: id,
        from,
        strict,
        diff,
        triage,
        repeat: 2,
        idempotencyKey,
        fromField: "from",
      });
      return reply.redirect(`/replays/${seg(view.row.id)}`, 303);
    },
  });

  app.get("/static/app.css", (_request, reply) =>
    reply.type("text/css; charset=utf-8").header("Cache-Control", "no-cache").send(APP_CSS),
  );
  app.get("/static/app.js", (_request, reply) =>
    reply.type("text/javascript; charset=utf-8").header("Cache-Control", "no-cache").send(APP_JS),
  );
}
