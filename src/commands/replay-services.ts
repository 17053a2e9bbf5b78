/**
 * The composition root for commands that run steps: the Docker engine, the step executor
 * and the image resolver, created together and released together.
 */
import type { Settings } from "../config/index.js";
import type { ImageResolver } from "../images/types.js";
import type { StepExecutor } from "../runner/types.js";

export interface ReplayServices extends AsyncDisposable {
  executor: StepExecutor;
  images: ImageResolver;
  /** Checks that the engine answers; throws DOCKER_UNAVAILABLE with how to start it. */
  preflight(): Promise<void>;
}

export interface ServiceOptions {
  /** Progress lines (image builds, sweeps) for a human. */
  log: (line: string) => void;
  /** Labels every container of this run, so an interrupted or crashed run can be reaped. */
  runId: string;
}

export function createReplayServices(settings: Settings, options: ServiceOptions): Promise<ReplayServices> {
  // Wired to the Docker runner (src/runner, src/images) once it lands.
  void settings;
  void options;
  return Promise.reject(new Error("replay services are not wired yet"));
}
