/**
 * Removes what crashed or killed replay-runner processes left in the engine: containers and
 * volumes labelled with this host and a pid that is no longer alive. Cheap enough to run at the
 * start of every replay (one filtered list call per kind, in parallel).
 */
import { pidAlive } from "../locks/index.js";
import type { DockerEngine, LabelledResource } from "./engine-port.js";
import { LABEL, hostLabelValue, labelFilter } from "./labels.js";

export interface ReapResult {
  containers: string[];
  volumes: string[];
}

function isStale(resource: LabelledResource, alive: (pid: number) => boolean): boolean {
  const pid = Number(resource.labels[LABEL.pid]);
  // A pid of this very process is never stale: its own steps may be running right now.
  return pid !== process.pid && !alive(pid);
}

export interface ReapOptions {
  /** For tests: which pids count as alive. */
  alive?: (pid: number) => boolean;
}

/** Stale resources of this host: containers first (removing them frees their volumes). */
export async function reapStale(engine: DockerEngine, options: ReapOptions = {}): Promise<ReapResult> {
  const alive = options.alive ?? pidAlive;
  const hostFilter = labelFilter(LABEL.host, hostLabelValue());
  // Both lists at once (one round trip); a stale container's anonymous volumes go with it.
  const [listedContainers, listedVolumes] = await Promise.all([
    engine.listContainers([hostFilter, LABEL.pid]),
    engine.listVolumes([hostFilter, LABEL.pid]),
  ]);
  // Another process may be reaping the same containers right now (every replay sweeps its
  // host): one that cannot be removed is not an error, and is not counted.
  const containers = (
    await Promise.all(
      listedContainers
        .filter((c) => isStale(c, alive))
        .map((c) =>
          engine.removeContainer(c.id).then(
            () => c.id,
            () => undefined,
          ),
        ),
    )
  ).filter((id): id is string => id !== undefined);
  const volumes = listedVolumes.filter((v) => isStale(v, alive));
  // A volume still used by a live container refuses removal: that is not an error here.
  const removed = await Promise.all(
    volumes.map((v) =>
      engine.removeVolume(v.id).then(
        () => v.id,
        () => undefined,
      ),
    ),
  );
  return {
    containers,
    volumes: removed.filter((v): v is string => v !== undefined),
  };
}

/** Everything of one run, whoever owns it (interruption, `gc --run`). */
export async function removeRunResources(engine: DockerEngine, runId: string): Promise<ReapResult> {
  const filter = labelFilter(LABEL.run, runId);
  const containers = await engine.listContainers([filter]);
  await Promise.all(containers.map((c) => engine.removeContainer(c.id)));
  const volumes = await engine.listVolumes([filter]);
  await Promise.all(volumes.map((v) => engine.removeVolume(v.id).catch(() => undefined)));
  return { containers: containers.map((c) => c.id), volumes: volumes.map((v) => v.id) };
}
