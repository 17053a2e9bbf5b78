/**
 * Downloads of an artifact's payload, recorded (the blob store) or replayed (a replay's output
 * folder). Always an attachment: a payload is registry data and is never rendered by the
 * browser (a sandbox CSP and nosniff besides, should one be opened anyway). The bytes are
 * checked against their hash on the way out: a download that does not match is cut short, so
 * nobody saves altered bytes under the name of the recorded or replayed payload (a small one
 * fails before anything is sent: a 422 page that says so).
 */
import { pipeline } from "node:stream";
import { create as contentDisposition } from "content-disposition";
import type { FastifyReply } from "fastify";
import { ReplayError } from "../errors/index.js";
import { VerifyingStream } from "../hashing/index.js";
import { extensionFor } from "../record/index.js";
import type { OpenedFile } from "./out-dir-files.js";

/** type/subtype with RFC 6838's restricted names, no parameters: anything else is bytes. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export function downloadMediaType(mediaType: string | null): string {
  const lower = mediaType?.trim().toLowerCase() ?? "";
  return MEDIA_TYPE.test(lower) ? lower : "application/octet-stream";
}

/** A file name from an artifact id (registry data: any text) that every browser and shell takes. */
export function downloadFileName(
  artifactId: string,
  mediaType: string | null,
  variant: "recorded" | "replayed",
): string {
  const base =
    artifactId
      .replace(/[^A-Za-z0-9._-]/g, "_")
      .replace(/^\.+/, "_")
      .slice(0, 120) || "payload";
  return `${base}${variant === "replayed" ? ".replayed" : ""}${extensionFor(downloadMediaType(mediaType))}`;
}

export interface Download {
  file: OpenedFile;
  contentHash: string;
  artifactId: string;
  mediaType: string | null;
  variant: "recorded" | "replayed";
}

export function sendDownload(reply: FastifyReply, d: Download): FastifyReply {
  const body = pipeline(
    d.file.handle.createReadStream({ highWaterMark: 1 << 20 }),
    new VerifyingStream(
      d.contentHash,
      (actual) =>
        new ReplayError(
          "INTEGRITY",
          `The ${d.variant} payload of ${d.artifactId} no longer hashes to ${d.contentHash} (its bytes hash to ${actual}); the download was stopped.`,
          {
            hint:
              d.variant === "recorded"
                ? "Restore the blob's original bytes from a backup."
                : "The replay's output folder was changed after it ran; replay the artifact again.",
            details: { artifact_id: d.artifactId, expected: d.contentHash, actual },
          },
        ),
    ),
    () => {
      // A mismatch or a read error destroys the response: the download fails visibly.
      void d.file.handle.close().catch(() => undefined);
    },
  );
  return reply
    .header("Content-Type", downloadMediaType(d.mediaType))
    .header("Content-Length", String(d.file.size))
    .header("Content-Disposition", contentDisposition(downloadFileName(d.artifactId, d.mediaType, d.variant)))
    .header("Content-Security-Policy", "sandbox; default-src 'none'")
    .header("X-Content-Type-Options", "nosniff")
    .header("Cache-Control", "no-store")
    .send(body);
}
