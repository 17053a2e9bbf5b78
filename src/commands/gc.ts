/**
 * `replay-runner gc`: removes what crashed or killed replays left in the Docker engine
 * (containers and volumes labelled with a pid that is gone, and their staged host folders), and
 * with --images the untagged
 * replay-env images that rebuilt environments left behind. Then, in the registry, marks the
 * replays whose process is gone interrupted (they would read "running" forever otherwise).
 */
import type { Command } from "commander";
import type { Settings } from "../config/index.js";
import { EXIT, exitCodesHelp, isReplayError } from "../errors/index.js";
import { interruptOrphanedBatches } from "../fleet/index.js";
import { ENV_LABEL } from "../images/index.js";
import { interruptOrphanedReplays, localJudge } from "../replay/index.js";
import { connectDockerEngine, reapStale, reapStaleStaging } from "../runner/index.js";
import { stagingBases } from "./replay-services.js";
import { settingsOf, withRegistry } from "./command-context.js";

/**
 * Replays whose process is gone, marked interrupted; served ones too (no server may come back
 * for them). A registry that does not exist has none; one held by a live process (the embedded
 * registry under `serve` or a `rerun`) is that process's to settle, and it does.
 */
async function interruptDeadReplays(settings: Settings): Promise<string> {
  try {
    const [marked, batches] = await withRegistry(settings, { migrate: true }, async (db) => [
      await interruptOrphanedReplays(db, localJudge(db, { includeServed: true })),
      await interruptOrphanedBatches(db, localJudge(db)),
    ]);
    for (const m of marked) process.stderr.write(`replay ${m.replayId}: marked interrupted: ${m.reason}\n`);
    for (const b of batches) process.stderr.write(`batch ${b.batchId}: marked interrupted: ${b.reason}\n`);
    return `${marked.length} replay(s) marked interrupted${batches.length > 0 ? `, ${batches.length} batch(es)` : ""}`;
  } catch (error) {
    if (isReplayError(error) && error.code === "NOT_FOUND") return "no registry";
    if (
      isReplayError(error) &&
      error.code === "DATABASE_UNAVAILABLE" &&
      typeof error.details.pid === "number"
    )
      return `registry in use by process ${error.details.pid}, which settles its replays itself`;
    throw error;
  }
}

interface GcOptions {
  images?: boolean;
}

export function registerGcCommand(program: Command): void {
  program
    .command("gc")
    .description(
      "remove stale replay containers and volumes from the Docker engine (of processes that are gone), and mark their replays interrupted in the registry",
    )
    .option("--images", "also remove dangling (untagged) replay-env images")
    .addHelpText("after", `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.internal])}`)
    .action(async (options: GcOptions, command: Command) => {
      const settings = settingsOf(command);
      const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
      const left: string[] = [];
      const [reaped, folders] = await Promise.all([
        reapStale(engine),
        Promise.all(
          stagingBases(settings).map((base) =>
            reapStaleStaging(base, undefined, (dir, reason) => {
              left.push(`warning: could not remove the staging folder ${dir}: ${reason}`);
            }),
          ),
        ).then((found) => found.flat()),
      ]);
      let images = 0;
      if (options.images === true) {
        const dangling = await engine.listImages({ labels: [ENV_LABEL.envHash], dangling: true });
        for (const image of dangling) await engine.removeImage(image.id);
        images = dangling.length;
      }
      const parts = [
        `${reaped.containers.length} container(s)`,
        `${reaped.volumes.length} volume(s)`,
        `${folders.length} staging folder(s)`,
      ];
      if (options.images === true) parts.push(`${images} image(s)`);
      process.stdout.write(`removed ${parts.join(", ")}\n`);
      for (const line of left) process.stderr.write(`${line}\n`);
      // After the engine's part, which needs no registry: an unreachable database still fails gc (exit 3).
      process.stdout.write(`${await interruptDeadReplays(settings)}\n`);
    });
}
