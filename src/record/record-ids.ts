/**
 * Ids of what the record commands create. Random rather than derived from content: the same
 * bytes recorded twice are two artifacts with two histories, and the contract keys rows by id.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";

/** `art-` + 12 hex digits (48 random bits): short enough to type, unique in any registry. */
export function newArtifactId(): string {
  return `art-${randomBytes(6).toString("hex")}`;
}

/** `step-` + 12 hex digits. */
export function newStepId(): string {
  return `step-${randomBytes(6).toString("hex")}`;
}

/**
 * A user-chosen id (--id): letters, digits and `._:-`, starting with a letter or digit. No `=`
 * (it separates `--input name=<id>`), no spaces or `/` (ids appear in file names of replays).
 */
export const userArtifactId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    "--id must be 1-128 characters: letters, digits and . _ : -, starting with a letter or digit",
  );
