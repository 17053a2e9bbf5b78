/**
 * The composition root for commands that run steps: the Docker engine, the step executor
 * and the image resolver, created together and released together.
 */
import path from "node:path";
import type { Settings } from "../config/index.js";
import type { DiffoscopeDifferOptions, PayloadDiffer } from "../diagnose/index.js";
import { messageOf } from "../errors/index.js";
import type { SqlQueryable } from "../db/index.js";
import { DockerImageResolver, ImageRegistry, MemoryImageCache, SqlImageCache } from "../images/index.js";
import type { ImageResolver } from "../images/types.js";
import {
  DockerStepExecutor,
  StagingRoot,
  connectDockerEngine,
  reapStale,
  reapStaleStaging,
  removeRunResources,
  tmpfsStagingBase,
} from "../runner/index.js";
import type { StepExecutor } from "../runner/types.js";

export interface ReplayServices extends AsyncDisposable {
  executor: StepExecutor;
  images: ImageResolver;
  /** --diff: diffoscope in the sandbox, through the same executor, with the built-in diff as fallback. */
  differ: PayloadDiffer;
  /**
   * Checks that the engine answers (throws DOCKER_UNAVAILABLE with how to start it), and starts
   * removing what crashed runs left (disposal waits for it).
   */
  preflight(): Promise<void>;
  /** Removes what processes of this host that are gone left on the engine (a long-lived worker's sweep). */
  reapDead(): Promise<number>;
}

export interface ServiceOptions {
  /** Progress lines (image builds, sweeps) for a human. */
  log: (line: string) => void;
  /** Labels every container of this run, so an interrupted or crashed run can be reaped. */
  runId: string;
  /** When aborted, disposing also removes whatever this run still has on the engine. */
  signal?: AbortSignal | undefined;
  /** The registry database (or its opening): where pulled and pushed images' digests are pinned. */
  db?: SqlQueryable | Promise<SqlQueryable> | undefined;
}

/** The diffoscope differ, loaded on the first mismatch: most replays never diff. */
function lazyDiffer(options: () => DiffoscopeDifferOptions): PayloadDiffer {
  let differ: Promise<PayloadDiffer> | undefined;
  return {
    async diff(request) {
      differ ??= import("../diagnose/index.js").then((m) => new m.DiffoscopeDiffer(options()));
      return (await differ).diff(request);
    },
  };
}

/** Where steps' host mounts are staged (runner/staging-root.ts). */
export function stagingBase(settings: Settings): string {
  return path.join(settings.home, "staging");
}

/** Every staging base a run of this user may leave folders in (the tmpfs one: triage's "order"). */
export function stagingBases(settings: Settings): string[] {
  const tmpfs = tmpfsStagingBase();
  return tmpfs === undefined ? [stagingBase(settings)] : [stagingBase(settings), tmpfs];
}

export function createReplayServices(settings: Settings, options: ServiceOptions): Promise<ReplayServices> {
  const engine = connectDockerEngine({ dockerHost: settings.dockerHost });
  const staging = settings.hostMounts ? new StagingRoot(stagingBase(settings)) : undefined;
  const tmpfs = staging === undefined ? undefined : tmpfsStagingBase();
  // Nothing is created there unless triage varies the order of /in.
  const listingStaging = tmpfs === undefined ? undefined : new StagingRoot(tmpfs);
  const executor = new DockerStepExecutor({
    engine,
    maxOutputBytes: settings.maxOutputBytes,
    staging,
    listingStaging,
  });
  let used = false;
  let reaping: Promise<void> = Promise.resolve();
  const registry =
    settings.imageRegistry === undefined
      ? undefined
      : new ImageRegistry({
          engine,
          address: settings.imageRegistry,
          insecure: settings.imageRegistryInsecure,
          cache:
            options.db === undefined
              ? new MemoryImageCache()
              : Promise.resolve(options.db).then((db) => new SqlImageCache(db)),
        });
  return Promise.resolve({
    executor,
    differ: lazyDiffer(() => ({
      engine,
      executor,
      image: settings.diffImage,
      limits: settings.diffTimeoutS === undefined ? undefined : { wallSeconds: settings.diffTimeoutS },
      log: options.log,
    })),
    images: new DockerImageResolver({
      engine,
      wheelhouse: settings.wheelhouse,
      pipIndexUrl: settings.pipIndexUrl,
      log: options.log,
      registry,
      pull: settings.pullPolicy,
    }),
    async preflight() {
      used = true;
      await engine.ping();
      // What crashed runs left is removed beside the first steps, not before them.
      reaping = Promise.all([
        reapStale(engine),
        Promise.all(stagingBases(settings).map((base) => reapStaleStaging(base))).then((f) => f.flat()),
      ]).then(
        ([reaped, folders]) => {
          if (reaped.containers.length + reaped.volumes.length + folders.length > 0) {
            options.log(
              `removed ${reaped.containers.length} container(s), ${reaped.volumes.length} volume(s) and ${folders.length} staging folder(s) left by runs that no longer exist`,
            );
          }
        },
        (error: unknown) => {
          options.log(`could not remove what earlier runs left: ${messageOf(error)}`);
        },
      );
    },
    async reapDead() {
      const reaped = await reapStale(engine);
      return reaped.containers.length;
    },
    async [Symbol.asyncDispose]() {
      // Steps remove their own containers (in the background: wait for that); removing by label
      // is the safety net for an interrupted run.
      await reaping;
      await executor.settled();
      if (used && options.signal?.aborted === true) await removeRunResources(engine, options.runId);
      for (const root of [staging, listingStaging]) {
        const left = await root?.dispose();
        if (left !== undefined) options.log(`warning: ${left}`);
      }
    },
  });
}
