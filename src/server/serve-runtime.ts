/**
 * `replay-runner serve` as a whole: open and migrate the registry, sweep what dead runs left
 * (containers, replays marked running), start the queue and the worker, listen; and the reverse
 * on shutdown: stop listening, stop taking jobs, abort running replays (their manifests say
 * interrupted and their containers are removed), close the database.
 */
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Settings } from "../config/index.js";
import {
  migrate,
  openSqlClient,
  shareEmbeddedRegistry,
  type RegistryShare,
  type SqlClient,
} from "../db/index.js";
import { messageOf } from "../errors/index.js";
import { PgBossStepQueue, StepWorker, type BatchSelection } from "../fleet/index.js";
import { pidAlive } from "../locks/index.js";
import { VERSION } from "../version.js";
import { buildApp } from "./app.js";
import { hostAllowList, isWildcard, parseAllowedHosts } from "./host-allow-list.js";
import { EmbeddedReplayQueue } from "./job-queue-embedded.js";
import { PgBossReplayQueue } from "./job-queue-postgres.js";
import { sweepOrphans, type SweepDeps } from "./orphan-sweep.js";
import type { ReplayQueue } from "./replay-queue.js";
import { queuedReplayIds, setJobId } from "./replay-store.js";
import { ReplayWorker, type ReplayServicesLike, type WorkerDeps } from "./replay-worker.js";
import { VerificationRunner } from "./verification-runner.js";
import { VerifySchedule } from "./verify-schedule.js";
import { newWorkerIdentity } from "./worker-identity.js";

/** The runner's reaper, as the server needs it (src/runner/reaper.ts behind a Docker engine). */
export interface EngineSweeper {
  reapStale(): Promise<{ containers: string[]; volumes: string[] }>;
  removeRunResources(runId: string): Promise<void>;
}

export interface ServeOptions {
  settings: Settings;
  host: string;
  port: number;
  apiToken: string | undefined;
  /** --allowed-host / REPLAY_ALLOWED_HOSTS: more `Host` names to answer (host-allow-list.ts). */
  allowedHosts?: readonly string[] | undefined;
  log: (line: string) => void;
  services: (runId: string, signal: AbortSignal, db: SqlClient) => Promise<ReplayServicesLike>;
  engine?: EngineSweeper | undefined;
  /** Replays run at once by this process (default 1: steps already use every core). */
  concurrency?: number | undefined;
  heartbeatMs?: number | undefined;
  staleSeconds?: number | undefined;
  maxAttempts?: number | undefined;
  /** Signs each replay once its manifest is written (REPLAY_SIGNING_KEY). */
  attest?: WorkerDeps["attest"];
  /** --verify-every: verify every artifact (or verifySelection) at this interval (verify-schedule.ts). */
  verifyEverySeconds?: number | undefined;
  /** --verify-selection: what each scheduled batch verifies. */
  verifySelection?: BatchSelection | undefined;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  app: FastifyInstance;
  db: SqlClient;
  close(reason?: string): Promise<void>;
  /** An uncaught error of the process: true when it came from a replay (now failed), false otherwise. */
  absorbCrash(error: unknown): boolean;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { settings, log } = options;
  let host = options.host;
  if (options.apiToken === undefined) {
    if (!isLoopback(host))
      log(`REPLAY_API_TOKEN is not set: refusing to listen on ${host}; listening on 127.0.0.1 only.`);
    else log("REPLAY_API_TOKEN is not set: listening on loopback only; rerun and cancel need no token.");
    if (!isLoopback(host)) host = "127.0.0.1";
  }
  const extraHosts = parseAllowedHosts(options.allowedHosts ?? []);
  let listeningPort = options.port;
  const hosts = hostAllowList({ bind: host, port: () => listeningPort, extra: extraHosts });
  const db = await openSqlClient({
    databaseUrl: settings.databaseUrl,
    embeddedDir: settings.embeddedDir,
    poolSize: 8,
    asServer: true,
  });
  let share: RegistryShare | undefined;
  let queue: ReplayQueue | undefined;
  let worker: ReplayWorker | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let schedule: VerifySchedule | undefined;
  let steps: { worker: StepWorker; services: ReplayServicesLike } | undefined;
  let verifications: VerificationRunner | undefined;
  const stepsStopping = new AbortController();
  /** The step worker hands its running steps back to the queue; its engine services go. */
  const stopSteps = async () => {
    const running = steps;
    steps = undefined;
    if (running === undefined) return;
    stepsStopping.abort();
    await running.worker.stop();
    await running.services[Symbol.asyncDispose]();
  };
  try {
    await migrate(db);
    // PGlite admits this process only: other commands go through it (src/db/registry-socket-server.ts).
    if (db.backend === "embedded") share = await shareEmbeddedRegistry(db, settings.embeddedDir, { log });
    const identity = newWorkerIdentity();
    const onError = (error: unknown) => {
      log(`queue: ${messageOf(error)}`);
    };
    const concurrency = options.concurrency ?? 1;
    queue =
      db.backend === "postgres"
        ? new PgBossReplayQueue(db, { concurrency, onError })
        : new EmbeddedReplayQueue(db, { concurrency, onError });

    if (options.engine !== undefined) {
      try {
        const reaped = await options.engine.reapStale();
        if (reaped.containers.length + reaped.volumes.length > 0) {
          log(
            `removed ${reaped.containers.length} container(s) and ${reaped.volumes.length} volume(s) left by dead runs`,
          );
        }
      } catch (error) {
        log(`could not sweep stale containers: ${messageOf(error)}`);
      }
    }
    const engine = options.engine;
    const removeRunResources =
      engine === undefined ? undefined : (runId: string) => engine.removeRunResources(runId);
    worker = new ReplayWorker({
      db,
      blobRoot: settings.blobRoot,
      toolVersion: VERSION,
      identity,
      services: options.services,
      removeRunResources,
      log,
      heartbeatMs: options.heartbeatMs,
      attest: options.attest,
    });
    const sweepDeps: SweepDeps = {
      db,
      identity,
      queue,
      // Once shared (registry-socket-server.ts), `rerun` and `verify` processes use the embedded
      // registry beside this one: their rows are judged by pid and heartbeat, as on PostgreSQL.
      singleProcess: db.backend === "embedded" && share === undefined,
      staleSeconds: options.staleSeconds ?? 30,
      maxAttempts: options.maxAttempts ?? 2,
      alive: pidAlive,
      removeRunResources,
      log,
    };
    // Before any job runs: settle the replays a dead server left running.
    await sweepOrphans(sweepDeps);
    const activeWorker = worker;
    await queue.start((replayId, jobId) => activeWorker.handle(replayId, jobId));
    worker.start();
    if (options.verifyEverySeconds !== undefined) {
      schedule = new VerifySchedule({
        db,
        blobRoot: settings.blobRoot,
        verificationsDir: path.join(settings.home, "verifications"),
        intervalSeconds: options.verifyEverySeconds,
        selection: options.verifySelection,
        services: options.services,
        log,
        pgBoss: queue instanceof PgBossReplayQueue ? queue : undefined,
      });
      await schedule.start();
    }
    let stepQueue: PgBossStepQueue | undefined;
    if (db.backend === "postgres") {
      // Every serve is also a worker of queued batches (verify --queue, POST /api/verifications).
      stepQueue = new PgBossStepQueue(db, { onError });
      const services = await options.services(identity.id, stepsStopping.signal, db);
      const stepWorker = new StepWorker({
        db,
        queue: stepQueue,
        blobRoot: settings.blobRoot,
        executor: services.executor,
        images: services.images,
        differ: services.differ,
        toolVersion: VERSION,
        owner: identity,
        log,
        preflight: () => services.preflight(),
        reapDead:
          engine === undefined
            ? undefined
            : async () => {
                await engine.reapStale();
              },
      });
      steps = { worker: stepWorker, services };
      await stepWorker.start(concurrency);
    }
    verifications = new VerificationRunner({
      db,
      blobRoot: settings.blobRoot,
      verificationsDir: path.join(settings.home, "verifications"),
      stepQueue,
      services: options.services,
      log,
    });
    if (queue.kind === "pg-boss") {
      // A job lost between the row's insert and pg-boss (a crash in between, a shutdown that
      // refused it) is sent again; a duplicate is harmless, the row is claimed once.
      for (const id of await queuedReplayIds(db)) {
        const jobId = await queue.dispatch(id);
        if (jobId !== null) await setJobId(db, id, jobId);
      }
    }
    let sweeping = false;
    sweepTimer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sweepOrphans(sweepDeps)
        .catch((error: unknown) => {
          log(`sweep: ${messageOf(error)}`);
        })
        .finally(() => (sweeping = false));
    }, 10_000);
    sweepTimer.unref();

    const app = buildApp({
      db,
      queue,
      worker,
      replaysDir: path.join(settings.home, "replays"),
      blobRoot: settings.blobRoot,
      apiToken: options.apiToken,
      hosts,
      log,
      verifications,
    });
    await app.listen({ host, port: options.port });
    const address = app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : options.port;
    listeningPort = port;
    // A wildcard is no address to connect to: the URL printed names loopback.
    const shown = isWildcard(host) ? "127.0.0.1" : host;
    const url = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
    log(`replay-runner serve: ${url} (${db.description}, queue: ${queue.kind}, worker ${identity.id})`);
    log(`answering Host: ${hosts.describe().join(", ")}`);
    if (share?.socket != null) log(`other commands use the embedded registry through ${share.socket}`);

    let closing: Promise<void> | undefined;
    const runningQueue = queue;
    const runningShare = share;
    const runningSchedule = schedule;
    const runningVerifications = verifications;
    const close = (reason = "the server is shutting down") => {
      closing ??= (async () => {
        clearInterval(sweepTimer);
        await app.close().catch((error: unknown) => {
          log(`http: ${messageOf(error)}`);
        });
        await runningSchedule?.stop();
        await runningVerifications.stop();
        await stopSteps();
        await activeWorker.drain(reason);
        await runningQueue.stop().catch((error: unknown) => {
          log(`queue: ${messageOf(error)}`);
        });
        await runningShare?.close();
        await db.close();
      })();
      return closing;
    };
    return { url, host, port, app, db, close, absorbCrash: (error) => activeWorker.absorbCrash(error) };
  } catch (error) {
    clearInterval(sweepTimer);
    await verifications?.stop().catch(() => undefined);
    await stopSteps().catch(() => undefined);
    await schedule?.stop().catch(() => undefined);
    await worker?.drain("the server failed to start").catch(() => undefined);
    await queue?.stop().catch(() => undefined);
    await share?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
}
