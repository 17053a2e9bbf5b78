/**
 * Image drift: the image a step replays in, against the one recorded with its output (artifact
 * metadata `image_id`, written by `replay-runner run`) and the one of the last replay in which
 * it reproduced (replay_runner.reproduced_images). A rebuilt environment image that changes a
 * step's output then shows as drift, not as a plain mismatch. One SELECT and one upsert per
 * replay, only for rows that ran in an image.
 */
import type { SqlQueryable } from "../db/index.js";

export interface ImageDrift {
  /** The image id recorded with the step's output; null when none was recorded. */
  recorded: string | null;
  /** The image of the last replay that reproduced this step, before this one; null: none. */
  last_reproduced: string | null;
  last_reproduced_replay: string | null;
  /** The image this replay ran the step in. */
  replayed: string;
}

/** The members of a manifest row this module reads and writes. */
export interface DriftRow {
  step_id: string;
  ok: boolean;
  image: { ref: string; id: string } | null;
  warnings: string[];
  image_drift: ImageDrift | null;
}

export interface ImageHistory {
  recordedImage: string | null;
  lastReproduced: { image: string; replay: string } | null;
}

const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

/** The image id recorded in an artifact's metadata, when it is one. */
export function recordedImageOf(metadata: Record<string, unknown>): string | null {
  const id = metadata.image_id;
  return typeof id === "string" && IMAGE_ID.test(id) ? id : null;
}

/**
 * Sets `image_drift` and a warning on each row whose image differs from the recorded one or the
 * last reproduced one, records this replay's reproduced images, and returns every row's history.
 */
export async function markImageDrift(
  db: SqlQueryable,
  replayId: string,
  rows: DriftRow[],
  recordedImage: (stepId: string) => string | null,
): Promise<Map<string, ImageHistory>> {
  const ran = rows.filter((r) => r.image !== null);
  const history = new Map<string, ImageHistory>();
  if (ran.length === 0) return history;
  const last = await db.query<{ step_id: string; image_id: string; replay_id: string }>(
    `SELECT step_id, image_id, replay_id FROM replay_runner.reproduced_images
     WHERE step_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
    [JSON.stringify(ran.map((r) => r.step_id))],
  );
  const lastOf = new Map(last.map((l) => [l.step_id, l]));
  for (const row of ran) {
    const replayed = row.image?.id ?? "";
    const recorded = recordedImage(row.step_id);
    const previous = lastOf.get(row.step_id);
    history.set(row.step_id, {
      recordedImage: recorded,
      lastReproduced:
        previous === undefined ? null : { image: previous.image_id, replay: previous.replay_id },
    });
    const fromRecord = recorded !== null && recorded !== replayed;
    const fromLast = previous !== undefined && previous.image_id !== replayed ? previous : undefined;
    if (!fromRecord && fromLast === undefined) continue;
    row.image_drift = {
      recorded,
      last_reproduced: previous?.image_id ?? null,
      last_reproduced_replay: previous?.replay_id ?? null,
      replayed,
    };
    const still = row.ok ? "; the output still reproduced" : "";
    if (fromRecord)
      row.warnings.push(`image drift: recorded in image ${recorded}, replayed in ${replayed}${still}`);
    if (fromLast !== undefined)
      row.warnings.push(
        `image drift: the last replay that reproduced this step (${fromLast.replay_id}) ran it in image ${fromLast.image_id}, this one in ${replayed}${still}`,
      );
  }
  const reproduced = ran.filter((r) => r.ok).map((r) => ({ step_id: r.step_id, image_id: r.image?.id }));
  if (reproduced.length > 0) {
    await db.query(
      `INSERT INTO replay_runner.reproduced_images (step_id, image_id, replay_id)
       SELECT x.step_id, x.image_id, $2 FROM jsonb_to_recordset($1::jsonb) AS x(step_id text, image_id text)
       ON CONFLICT (step_id) DO UPDATE
         SET image_id = EXCLUDED.image_id, replay_id = EXCLUDED.replay_id, reproduced_at = now()`,
      [JSON.stringify(reproduced), replayId],
    );
  }
  return history;
}
