/** `replay-runner serve`: the HTTP API and web pages over the same registry, runner and handlers. */
import type { Command } from "commander";
import { z } from "zod";
import { ReplayError } from "../errors/index.js";
import { connectDockerEngine, reapStale, removeRunResources } from "../runner/index.js";
import { settingsOf } from "./command-context.js";
import { createReplayServices } from "./replay-services.js";

const optionsSchema = z.object({
  port: z.coerce
    .number({ error: "--port must be a number" })
    .int("--port must be a whole number")
    .min(0)
    .max(65535, "--port must be at most 65535"),
  host: z.string().min(1, "--host must not be empty"),
  concurrency: z.coerce
    .number()
    .int("--concurrency must be a whole number")
    .min(1, "--concurrency must be at least 1")
    .max(64),
});

const HELP_AFTER = `
API (JSON; errors are application/problem+json):
  POST   /api/artifacts/:id/rerun   body {"from"?, "strict"?, "diff"?}; 202 {replay_id, status_url}
                                    Idempotency-Key header: a repeat returns the same replay
  GET    /api/replays/:id           status, progress per step, the manifest when finished
  DELETE /api/replays/:id           cancel (a running replay's containers are removed)
  GET    /api/replays/:id/diffs/:step        a mismatch's text report (diff: true); /json and /html:
                                    diffoscope's JSON and its HTML (served sandboxed, no script runs)
  GET    /api/artifacts/:id         the artifact, its lineage and its past replays
Pages: /artifacts/:id, /replays/:id

REPLAY_API_TOKEN: the bearer token of POST and DELETE. Without it the server listens on
loopback only. Replays queue in pg-boss on PostgreSQL (several servers share them) and in the
registry's own table on the embedded registry; a replay whose server died is run again once,
then marked failed with the reason. SIGINT/SIGTERM stop the server cleanly: running replays are
interrupted and their containers removed.`;

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve the HTTP API and web pages: rerun from a browser, follow replays, read manifests")
    .option("--port <n>", "TCP port (0: any free port)", "8080")
    .option("--host <address>", "address to listen on (without REPLAY_API_TOKEN: loopback only)", "127.0.0.1")
    .option("--concurrency <n>", "replays this process runs at once", "1")
    .addHelpText("after", HELP_AFTER)
    .action(async (raw: unknown, command: Command) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new ReplayError("USAGE", parsed.error.issues.map((i) => i.message).join("; "), {
          hint: "See `replay-runner serve --help`.",
        });
      }
      const settings = settingsOf(command);
      const token = process.env.REPLAY_API_TOKEN?.trim();
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
      // Loaded here, not at start-up: fastify and pg-boss cost every other command ~200 ms.
      const { startServer } = await import("../server/index.js");
      const server = await startServer({
        settings,
        host: parsed.data.host,
        port: parsed.data.port,
        apiToken: token === undefined || token === "" ? undefined : token,
        concurrency: parsed.data.concurrency,
        log,
        services: (runId, signal) => createReplayServices(settings, { log, runId, signal }),
        engine: {
          reapStale: () => reapStale(engine),
          removeRunResources: async (runId) => {
            await removeRunResources(engine, runId);
          },
        },
      });
      // Print where to go on stdout (scripts and tests read it); everything else goes to stderr.
      process.stdout.write(`listening on ${server.url}\n`);
      await new Promise<void>((resolve) => {
        let received: NodeJS.Signals | undefined;
        const onSignal = (signal: NodeJS.Signals) => {
          if (received !== undefined) process.exit(signal === "SIGTERM" ? 143 : 130);
          received = signal;
          log(`${signal}: shutting down: no new jobs, running replays interrupted (again to exit at once)`);
          server
            .close(`interrupted by ${signal}: the server is shutting down`)
            .catch((error: unknown) => log(`shutdown: ${(error as Error).message}`))
            .finally(() => {
              process.off("SIGINT", onSignal);
              process.off("SIGTERM", onSignal);
              resolve();
            });
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      });
    });
}
