/**
 * `replay-runner worker`: takes the steps of queued batches (`verify --queue`) from the
 * PostgreSQL registry's pg-boss queue and replays them in this host's Docker engine, until
 * SIGINT/SIGTERM; a step it holds then goes back to the queue for another worker.
 */
import os from "node:os";
import type { Command } from "commander";
import { z } from "zod";
import { EXIT, ReplayError, exitCodesHelp, messageOf } from "../errors/index.js";
import { PgBossStepQueue, StepWorker } from "../fleet/index.js";
import { processOwner } from "../replay/index.js";
import { visibleLines } from "../terminal/index.js";
import { VERSION } from "../version.js";
import { openRegistry, settingsOf, useRegistry } from "./command-context.js";
import { relayInterrupts } from "./interrupts.js";
import { createReplayServices } from "./replay-services.js";
import { parseOptions } from "./usage-error.js";
import { whole } from "./verify-selection.js";

const optionsSchema = z.object({ jobs: whole("--jobs", 1, 256).optional() });

const log = (line: string) => process.stderr.write(`${visibleLines(line)}\n`);

export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description(
      "PostgreSQL: replay the steps of queued batches (verify --queue) in this host's engine, until SIGINT/SIGTERM",
    )
    .option("--jobs <n>", "steps run at once (default: number of CPUs)")
    .addHelpText(
      "after",
      `\nEvery worker needs the registry (REPLAY_DATABASE_URL), the blob store (REPLAY_BLOBS) and each batch's
folder at the same paths as the other workers. A step held by a worker that stops goes back to the
queue; one held by a worker that died is given to another within seconds (on this host) or
once its heartbeat is 30 s old (another host).\n\n${exitCodesHelp([EXIT.usage, EXIT.infrastructure, EXIT.internal, EXIT.sigint, EXIT.sigterm])}`,
    )
    .action(async (raw: unknown, command: Command) => {
      const opts = parseOptions(optionsSchema, raw, "worker");
      const settings = settingsOf(command);
      const owner = processOwner();
      await using interrupts = relayInterrupts();
      const registry = openRegistry(settings, { migrate: true });
      await useRegistry(registry, async (db) => {
        if (db.backend !== "postgres")
          throw new ReplayError("USAGE", "worker needs the registry on PostgreSQL.", {
            hint: "Set REPLAY_DATABASE_URL; on the embedded registry `replay-runner verify` runs a batch in one process.",
          });
        await using services = await createReplayServices(settings, {
          log,
          runId: owner.id,
          signal: interrupts.signal,
          db,
        });
        const queue = new PgBossStepQueue(db, { onError: (error) => log(`queue: ${messageOf(error)}`) });
        const worker = new StepWorker({
          db,
          queue,
          blobRoot: settings.blobRoot,
          executor: services.executor,
          images: services.images,
          differ: services.differ,
          toolVersion: VERSION,
          owner,
          log,
          preflight: () => services.preflight(),
          reapDead: async () => {
            const n = await services.reapDead();
            if (n > 0) log(`removed ${n} container(s) of processes that are gone`);
          },
        });
        const jobs = opts.jobs ?? os.availableParallelism();
        await worker.start(jobs);
        log(
          `replay-runner worker ${owner.id} on ${owner.host} (pid ${owner.pid}): ${jobs} step(s) at once, ${db.description}`,
        );
        await new Promise<void>((resolve) => {
          if (interrupts.signal.aborted) resolve();
          interrupts.signal.addEventListener(
            "abort",
            () => {
              resolve();
            },
            { once: true },
          );
        });
        log("stopping: steps still running go back to the queue");
        await worker.stop();
      });
      process.exitCode = interrupts.exitCode(0);
    });
}
