/** Where a replay wrote its output, from replay-runner's own table (export-crate <replay-id>). */
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";

export async function outDirOfReplay(db: SqlQueryable, replayId: string): Promise<string> {
  const [row] = await db.query<{ out_dir: string | null }>(
    "SELECT out_dir FROM replay_runner.replays WHERE id = $1",
    [replayId],
  );
  if (row?.out_dir == null) {
    throw new ReplayError("NOT_FOUND", `There is no replay ${replayId}, and no folder of that name.`, {
      hint: "Give a replay id (`rerun` prints it; GET /api/artifacts/:id lists them) or a replay's output folder.",
      details: { replay_id: replayId },
    });
  }
  return row.out_dir;
}
