/** `replay-runner serve`: the HTTP API and web pages over the same registry, runner and handlers. */
import type { Command } from "commander";
import { z } from "zod";
import { EXIT, ReplayError, exitCodesHelp } from "../errors/index.js";
import { visibleLines } from "../terminal/index.js";
import { connectDockerEngine, reapStale, removeRunResources } from "../runner/index.js";
import { settingsOf } from "./command-context.js";
import { createReplayServices } from "./replay-services.js";
import { replaySigning } from "./replay-signing.js";
import { parseVerifySelection } from "./verify-selection.js";

/** --verify-every units; a duration of this shape needs no library. */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

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
  allowedHost: z.array(z.string()).default([]),
  verifyEvery: z
    .string()
    .regex(/^[1-9]\d{0,8}[smhd]$/, "--verify-every takes a whole number and a unit: 30s, 15m, 12h, 7d")
    .transform((text) => Number(text.slice(0, -1)) * (UNIT_SECONDS[text.slice(-1)] ?? 1))
    .optional(),
  verifySelection: z.string().optional(),
});

function collectHost(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const HELP_AFTER = `
API (JSON; errors are application/problem+json):
  POST   /api/artifacts/:id/rerun   Content-Type: application/json, body {"from"?, "strict"?,
                                    "diff"?} (may be empty); 202 {replay_id, status_url}
                                    Idempotency-Key header: a repeat returns the same replay
  GET    /api/replays/:id           status (queued, running, finished, interrupted, failed: it
                                    could not run), verdict (reproduced, not_reproduced, or null
                                    until finished), progress per step, the manifest once ended
  DELETE /api/replays/:id           cancel: 200 when it was still queued, 202 while it stops
                                    (its containers are removed); 409 ALREADY_FINISHED with its
                                    final status and verdict once it has ended (a cancel that
                                    came too late included); 409 NOT_SERVED for a replay a
                                    \`rerun\` runs (stop that process)
  GET    /api/replays/:id/diffs/:step        a mismatch's text report (diff: true); /json and /html:
                                    diffoscope's JSON and its HTML (served sandboxed, no script runs)
  GET    /api/artifacts/:id         the artifact, its lineage and its past replays
  GET    /api/replays/:id/attestation  the signed attestation (404 when the replay was not signed)
  GET    /schemas/manifest.json     the JSON Schema of manifest.json
  GET    /api/artifacts/:id/history  every finished replay or batch that verified it, newest first
  GET    /badges/:id.svg            the artifact's badge (ETag: content_hash, verdict, run id)
Pages: /artifacts/:id (with its history), /replays/:id, /verifications (batches, and the
  artifacts that stopped reproducing); downloads (attachments, checked against their hashes):
  /artifacts/:id/payload (recorded), /replays/:id/steps/:stepId/payload (replayed).
  The Rerun form posts application/x-www-form-urlencoded to /artifacts/:id/rerun (from, strict,
  diff, token; only from this server's own pages), answered 303 to the new replay's page.

Requests under another Host name get 421, and a POST or DELETE sent by a page of another
origin (Origin, else Sec-Fetch-Site or Referer) gets 403. Answered: localhost, 127.0.0.1 and
[::1] with the port, the --host address, for a wildcard --host (0.0.0.0, ::) this machine's
addresses, and every --allowed-host.

On the embedded registry, other commands (show, lineage, rerun, add, ...) keep working while
serve runs: they go through serve over a Unix socket only this user can open
(<home>/registry.share/, described by <home>/registry.serve.json).

REPLAY_SIGNING_KEY: sign every replay with this private key (replay-runner keygen).
REPLAY_API_TOKEN: the bearer token of POST and DELETE. Without it the server listens on
loopback only. REPLAY_ALLOWED_HOSTS: like --allowed-host, comma-separated. Replays queue in
pg-boss on PostgreSQL (several servers share them) and in the registry's own table on the
embedded registry; a replay whose server died is run again once, then marked failed with the
reason; one whose \`rerun\` process died is marked interrupted. An error inside a replay fails
that replay, never the server. SIGINT/SIGTERM stop the server cleanly: running replays are
interrupted and their containers removed.`;

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve the HTTP API and web pages: rerun from a browser, follow replays, read manifests")
    .option("--port <n>", "TCP port (0: any free port)", "8080")
    .option("--host <address>", "address to listen on (without REPLAY_API_TOKEN: loopback only)", "127.0.0.1")
    .option("--concurrency <n>", "replays this process runs at once", "1")
    .option(
      "--allowed-host <name>",
      "also answer this Host name (name or name:port; repeatable; e.g. the name of a proxy in front)",
      collectHost,
    )
    .option(
      "--verify-every <duration>",
      "verify every artifact at this interval (30s, 15m, 12h, 7d): a batch like `verify --all`, its results in each artifact's history and on /verifications",
    )
    .option(
      "--verify-selection <words>",
      'what each scheduled batch verifies instead, in `verify`\'s words (one argument; quotes group, no shell): e.g. "--type figure --sample 50 --seed nightly", "art-1 art-2", "--recorded-since 2026-12-01 --max-steps 500"',
    )
    .addHelpText("after", HELP_AFTER)
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.internal, EXIT.sigint, EXIT.sigterm])}`,
    )
    .action(async (raw: unknown, command: Command) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        throw new ReplayError("USAGE", parsed.error.issues.map((i) => i.message).join("; "), {
          hint: "See `replay-runner serve --help`.",
        });
      }
      if (parsed.data.verifySelection !== undefined && parsed.data.verifyEvery === undefined) {
        throw new ReplayError(
          "USAGE",
          "--verify-selection needs --verify-every: it says what the schedule verifies.",
          {
            hint: 'Add --verify-every 7d (or 30s, 15m, 12h), e.g. `replay-runner serve --verify-every 7d --verify-selection "--type figure"`.',
          },
        );
      }
      const verifySelection =
        parsed.data.verifySelection === undefined
          ? undefined
          : parseVerifySelection(parsed.data.verifySelection);
      const settings = settingsOf(command);
      const token = process.env.REPLAY_API_TOKEN?.trim();
      // The server logs replays' failures, which quote the registry: made visible (terminal/).
      const log = (line: string) => process.stderr.write(`${visibleLines(line)}\n`);
      const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
      const signing = await replaySigning(); // REPLAY_SIGNING_KEY: every replay is signed
      if (signing !== undefined) log(`signing every replay with key id ${signing.keyId}`);
      // Loaded here, not at start-up: fastify and pg-boss cost every other command ~200 ms.
      const { guardServerCrashes, startServer } = await import("../server/index.js");
      const server = await startServer({
        settings,
        host: parsed.data.host,
        port: parsed.data.port,
        apiToken: token === undefined || token === "" ? undefined : token,
        allowedHosts: [...parsed.data.allowedHost, ...(process.env.REPLAY_ALLOWED_HOSTS ?? "").split(",")],
        concurrency: parsed.data.concurrency,
        verifyEverySeconds: parsed.data.verifyEvery,
        verifySelection,
        attest: signing?.attest,
        log,
        services: (runId, signal, db) => createReplayServices(settings, { log, runId, signal, db }),
        engine: {
          reapStale: () => reapStale(engine),
          removeRunResources: async (runId) => {
            await removeRunResources(engine, runId);
          },
        },
      });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (reason: string) => {
          stopping = true;
          server
            .close(reason)
            .catch((error: unknown) => log(`shutdown: ${(error as Error).message}`))
            .finally(() => {
              process.off("SIGINT", onSignal);
              process.off("SIGTERM", onSignal);
              uninstall();
              resolve();
            });
        };
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) process.exit(signal === "SIGTERM" ? 143 : 130);
          log(`${signal}: shutting down: no new jobs, running replays interrupted (again to exit at once)`);
          stop(`interrupted by ${signal}: the server is shutting down`);
        };
        // An error that escaped a replay fails that replay, never the server (crash-guard.ts).
        const uninstall = guardServerCrashes({
          absorbCrash: (error) => server.absorbCrash(error),
          log,
          onFatal: () => {
            process.exitCode = EXIT.internal;
            if (!stopping) stop("the server stopped after an internal error");
          },
        });
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
        // Print where to go on stdout (scripts and tests read it); everything else goes to stderr.
        // Only now: a pipe's write is synchronous, so its reader may signal at once, and a signal
        // before the handlers above would kill the process without a clean shutdown.
        process.stdout.write(`listening on ${server.url}\n`);
      });
    });
}
