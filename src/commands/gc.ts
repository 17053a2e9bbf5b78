/**
 * `replay-runner gc`: removes what crashed or killed replays left in the Docker engine
 * (containers and volumes labelled with a pid that is gone, and their staged host folders), and
 * with --images the untagged
 * replay-env images that rebuilt environments left behind. Needs no registry.
 */
import type { Command } from "commander";
import { ENV_LABEL } from "../images/index.js";
import { connectDockerEngine, reapStale, reapStaleStaging } from "../runner/index.js";
import { stagingBases } from "./replay-services.js";
import { settingsOf } from "./command-context.js";

interface GcOptions {
  images?: boolean;
}

export function registerGcCommand(program: Command): void {
  program
    .command("gc")
    .description(
      "remove stale replay containers and volumes from the Docker engine (of processes that are gone)",
    )
    .option("--images", "also remove dangling (untagged) replay-env images")
    .action(async (options: GcOptions, command: Command) => {
      const settings = settingsOf(command);
      const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
      const [reaped, folders] = await Promise.all([
        reapStale(engine),
        Promise.all(stagingBases(settings).map((base) => reapStaleStaging(base))).then((f) => f.flat()),
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
    });
}
