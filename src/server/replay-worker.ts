/**
 * Runs the served replays this process claimed: one AbortController each (cancel, shutdown),
 * a heartbeat that shows other servers this worker is alive and brings them cancel requests
 * made on another server, and a failure record when a replay cannot even start.
 *
 * No error inside a replay may take the server down. Each replay runs in an AsyncLocalStorage
 * scope, which Node carries into every callback, timer and socket the replay starts; an error
 * that escapes all of them (an uncaught exception, an unhandled rejection: a library emitting
 * `error` with no listener) reaches `absorbCrash`, which finds the replay it came from by that
 * scope, aborts it (its containers are removed) and records it failed with the error. The job
 * then ends normally: it is not retried into the same crash.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { SqlClient } from "../db/index.js";
import type { PayloadDiffer } from "../diagnose/index.js";
import { ReplayError, exitCodeFor, messageOf, stackOf } from "../errors/index.js";
import type { ImageResolver } from "../images/types.js";
import { failReplayRecord, runReplay, type ReplayDeps } from "../replay/index.js";
import type { StepExecutor } from "../runner/types.js";
import { claimReplay, heartbeat, recordPlan } from "./replay-store.js";
import type { StoredReplayOptions } from "./schemas.js";
import type { WorkerIdentity } from "./worker-identity.js";

/** The executor, image resolver and engine check of one replay (its containers carry runId). */
export interface ReplayServicesLike extends AsyncDisposable {
  executor: StepExecutor;
  images: ImageResolver;
  /** For replays queued with diff: true; undefined: the built-in diff. */
  differ?: PayloadDiffer | undefined;
  preflight(): Promise<void>;
}

export interface WorkerDeps {
  db: SqlClient;
  blobRoot: string;
  toolVersion: string;
  identity: WorkerIdentity;
  /** `db`: where a shared image registry's digests are pinned (image-cache.ts). */
  services: (runId: string, signal: AbortSignal, db: SqlClient) => Promise<ReplayServicesLike>;
  /** Removes every container and volume of a run, wherever it was left (after a cancel). */
  removeRunResources?: ((runId: string) => Promise<void>) | undefined;
  log: (line: string) => void;
  heartbeatMs?: number | undefined;
  attest?: ReplayDeps["attest"];
}

interface Active {
  controller: AbortController;
  done: Promise<void>;
  /** Set when an error escaped the replay (absorbCrash); the replay is then recorded failed with it. */
  crash?: ReplayError;
  crashed: () => void;
  crashedAt: Promise<void>;
}

/** How long a crashed replay gets to wind down (abort, remove containers) before its slot is freed. */
const CRASH_GRACE_MS = 20_000;

export class ReplayWorker {
  private readonly active = new Map<string, Active>();
  private readonly scope = new AsyncLocalStorage<string>();
  private timer: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(private readonly deps: WorkerDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.deps.heartbeatMs ?? 5000);
    this.timer.unref();
  }

  get runningIds(): string[] {
    return [...this.active.keys()];
  }

  /** Aborts a replay running in this process; false when it runs elsewhere (or not at all). */
  cancel(replayId: string): boolean {
    const active = this.active.get(replayId);
    if (active === undefined) return false;
    active.controller.abort(new Error("cancelled through the API"));
    return true;
  }

  /** A job for a replay: claim it (it may have been cancelled or taken meanwhile), run it, record the end. */
  async handle(replayId: string, jobId: string | null): Promise<void> {
    // While shutting down, leave it queued: the next start (or another server) runs it.
    if (this.draining) throw new Error("the server is shutting down; the replay stays queued");
    const view = await claimReplay(this.deps.db, replayId, this.deps.identity, jobId);
    if (view === null) return;
    const controller = new AbortController();
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    let crashed: () => void = () => undefined;
    const crashedAt = new Promise<void>((resolve) => (crashed = resolve));
    const active: Active = { controller, done, crashed, crashedAt };
    this.active.set(replayId, active);
    try {
      const running = this.scope.run(replayId, () =>
        this.run(replayId, view.row.target_artifact_id, view.row.out_dir, view.options, controller.signal),
      );
      running.catch(() => undefined); // run() records its own failures
      // A crashed replay may never settle (the error unwound the code that would have settled
      // it): after a grace period it is recorded failed and its slot freed all the same.
      await Promise.race([running, crashedAt.then(() => sleep(CRASH_GRACE_MS, undefined, { ref: false }))]);
      if (active.crash !== undefined) await this.recordCrash(replayId, active.crash);
    } finally {
      this.active.delete(replayId);
      finished();
    }
  }

  /**
   * An uncaught error of this process: true when it came from one of this worker's replays,
   * which is then aborted and will be recorded failed with it; false when it is none of theirs.
   */
  absorbCrash(error: unknown): boolean {
    const replayId = this.scope.getStore();
    const active = replayId === undefined ? undefined : this.active.get(replayId);
    if (replayId === undefined || active === undefined) return false;
    const e = new ReplayError("INTERNAL", `internal error: the replay crashed: ${messageOf(error)}`, {
      hint: "This is a bug in replay-runner; the server log has the stack.",
      cause: error,
    });
    this.deps.log(
      `replay ${replayId}: crashed; aborted and recorded failed; the server goes on:\n${stackOf(error)}`,
    );
    if (active.crash === undefined) {
      active.crash = e;
      // Recorded at once, so that no reader sees the wind-down's "interrupted" first.
      void this.recordCrash(replayId, e);
      active.controller.abort(e);
      active.crashed();
    }
    return true;
  }

  private async recordCrash(replayId: string, error: ReplayError): Promise<void> {
    await failReplayRecord(this.deps.db, replayId, "failed", error.toJSON(), exitCodeFor(error.code)).catch(
      (recordError: unknown) => {
        this.deps.log(`replay ${replayId}: cannot record its failure: ${messageOf(recordError)}`);
      },
    );
    await this.deps.removeRunResources?.(replayId).catch(() => undefined);
  }

  /** Stops taking jobs, aborts every running replay (manifests marked interrupted), waits for them. */
  async drain(reason: string, graceMs = 20_000): Promise<void> {
    this.draining = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const running = [...this.active.entries()];
    for (const [, a] of running) a.controller.abort(new Error(reason));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">(
      (resolve) =>
        (timer = setTimeout(() => {
          resolve("late");
        }, graceMs)),
    );
    const outcome = await Promise.race([Promise.all(running.map(([, a]) => a.done)), late]);
    clearTimeout(timer);
    if (outcome === "late") {
      // A replay that does not stop in time must not keep the server up: record it and go.
      for (const [id] of running.filter(([id]) => this.active.has(id))) {
        this.deps.log(`replay ${id}: did not stop within ${graceMs} ms; marked interrupted`);
        await failReplayRecord(
          this.deps.db,
          id,
          "interrupted",
          { code: "INTERRUPTED", message: reason },
          130,
        ).catch(() => undefined);
        await this.deps.removeRunResources?.(id).catch(() => undefined);
      }
    }
  }

  private async run(
    replayId: string,
    artifactId: string,
    outDir: string | null,
    options: StoredReplayOptions,
    signal: AbortSignal,
  ): Promise<void> {
    const { db, log } = this.deps;
    log(`replay ${replayId} of ${artifactId}: started`);
    try {
      if (outDir === null) throw new ReplayError("INTERNAL", `replay ${replayId} has no output folder`);
      await using services = await this.deps.services(replayId, signal, db);
      const manifest = await runReplay(
        {
          db,
          blobRoot: this.deps.blobRoot,
          executor: services.executor,
          images: services.images,
          differ: services.differ,
          preflight: () => services.preflight(),
          toolVersion: this.deps.toolVersion,
          attest: this.deps.attest,
          reporter: {
            planned: ({ executed }) => {
              const plan = executed.map((cs) => ({
                step_id: cs.step.id,
                step_type: cs.step.stepType,
                method: cs.step.method,
              }));
              recordPlan(db, replayId, plan).catch((error: unknown) => {
                log(`replay ${replayId}: cannot record its plan: ${messageOf(error)}`);
              });
            },
          },
        },
        {
          artifactId,
          outDir,
          from: options.from ?? undefined,
          strict: options.strict,
          diff: options.diff,
          // The folder is this replay's own (named after its id): what is there is an earlier
          // attempt of it (a job retried after a restart), replaced.
          force: true,
          triage: options.triage,
          repeat: options.repeat,
          replayId,
          signal,
        },
      );
      log(`replay ${replayId}: ${manifest.interrupted ? "interrupted" : `finished: ${manifest.status}`}`);
    } catch (error) {
      // A crash is recorded by handle() (absorbCrash saw it first); nothing to add here.
      if (this.active.get(replayId)?.crash !== undefined) return;
      const e =
        error instanceof ReplayError
          ? error
          : new ReplayError("INTERNAL", `internal error: ${messageOf(error)}`, { cause: error });
      const status = signal.aborted ? "interrupted" : "failed";
      log(`replay ${replayId}: ${status}: ${e.message}`);
      if (e.code === "INTERNAL") log(stackOf(error));
      await failReplayRecord(db, replayId, status, e.toJSON(), exitCodeFor(e.code)).catch(
        (recordError: unknown) => {
          log(`replay ${replayId}: cannot record its failure: ${messageOf(recordError)}`);
        },
      );
    } finally {
      // The runner removes a step's container when the signal fires; this also catches one
      // that was being created at that very moment.
      if (signal.aborted) {
        await this.deps.removeRunResources?.(replayId).catch((error: unknown) => {
          log(`replay ${replayId}: cleanup: ${messageOf(error)}`);
        });
      }
    }
  }

  private async beat(): Promise<void> {
    try {
      const cancelled = await heartbeat(this.deps.db, this.deps.identity, this.runningIds);
      for (const id of cancelled) this.cancel(id);
    } catch (error) {
      this.deps.log(`heartbeat failed: ${messageOf(error)}`);
    }
  }
}
