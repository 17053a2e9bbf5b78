/** Evidence for auditors over HTTP: a replay's signed attestation, and the manifest's JSON Schema. */
import type { FastifyInstance } from "fastify";
import { manifestSchemaText, readAttestationSummary } from "../evidence/index.js";
import { ReplayError } from "../errors/index.js";
import type { AppDeps } from "./app-deps.js";
import { requireReplay } from "./replay-store.js";
import { replayParamsSchema } from "./schemas.js";
import { parseInput } from "./validate.js";

export function registerEvidenceRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get("/api/replays/:id/attestation", async (request, reply) => {
    const { id } = parseInput(replayParamsSchema, request.params, "params");
    const view = await requireReplay(deps.db, id);
    const attestation = view.row.out_dir === null ? null : await readAttestationSummary(view.row.out_dir);
    if (attestation === null) {
      throw new ReplayError("NOT_FOUND", `Replay ${id} was not signed: it has no attestation.`, {
        hint: "serve signs every replay when REPLAY_SIGNING_KEY names a private key (replay-runner keygen).",
        details: { replay_id: id },
      });
    }
    return reply
      .type("application/json; charset=utf-8")
      .header("Content-Disposition", `attachment; filename="${id}.attestation.intoto.json"`)
      .send(attestation.text);
  });

  app.get("/schemas/manifest.json", (_request, reply) =>
    reply
      .type("application/schema+json; charset=utf-8")
      .header("Cache-Control", "no-cache")
      .send(manifestSchemaText()),
  );
}
