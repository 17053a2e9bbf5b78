/**
 * Runs the served replays this process claimed: one AbortController each (cancel, shutdown),
 * a heartbeat that shows other servers this worker is alive and brings them cancel requests
 * made on another server, and a failure record when a replay cannot even start.
 */
import type { SqlClient } from "../db/index.js";
import { ReplayError, exitCodeFor, messageOf } from "../errors/index.js";
import type { ImageResolver } from "../images/types.js";
import { failReplayRecord, runReplay } from "../replay/index.js";
import type { StepExecutor } from "../runner/types.js";
import { claimReplay, heartbeat, recordPlan } from "./replay-store.js";
import type { StoredReplayOptions } from "./schemas.js";
import type { WorkerIdentity } from "./worker-identity.js";

/** The executor, image resolver and engine check of one replay (its containers carry runId). */
export interface ReplayServicesLike extends AsyncDisposable {
  executor: StepExecutor;
  images: ImageResolver;
  preflight(): Promise<void>;
}

export interface WorkerDeps {
  db: SqlClient;
  blobRoot: string;
  toolVersion: string;
  identity: WorkerIdentity;
  services: (runId: string, signal: AbortSignal) => Promise<ReplayServicesLike>;
  /** Removes every container and volume of a run, wherever it was left (after a cancel). */
  removeRunResources?: ((runId: string) => Promise<void>) | undefined;
  log: (line: string) => void;
  heartbeatMs?: number | undefined;
}

interface Active {
  controller: AbortController;
  done: Promise<void>;
}

export class ReplayWorker {
  private readonly active = new Map<string, Active>();
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
    this.active.set(replayId, { controller, done });
    try {
      await this.run(
        replayId,
        view.row.target_artifact_id,
        view.row.out_dir,
        view.options,
        controller.signal,
      );
    } finally {
      this.active.delete(replayId);
      finished();
    }
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
      await using services = await this.deps.services(replayId, signal);
      const manifest = await runReplay(
        {
          db,
          blobRoot: this.deps.blobRoot,
          executor: services.executor,
          images: services.images,
          preflight: () => services.preflight(),
          toolVersion: this.deps.toolVersion,
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
          triage: options.triage,
          repeat: options.repeat,
          replayId,
          signal,
        },
      );
      log(`replay ${replayId}: ${manifest.status}`);
    } catch (error) {
      const e =
        error instanceof ReplayError
          ? error
          : new ReplayError("INTERNAL", `internal error: ${messageOf(error)}`, { cause: error });
      const status = signal.aborted ? "interrupted" : "failed";
      log(`replay ${replayId}: ${status}: ${e.message}`);
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
