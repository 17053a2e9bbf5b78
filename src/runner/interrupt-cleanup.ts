/**
 * On SIGINT/SIGTERM, remove the containers (and volumes) of the current run before exiting, so an
 * interrupted replay leaves nothing in the engine. runStep also removes its own container when
 * its AbortSignal fires; this covers a process that is about to exit anyway.
 */
import type { DockerEngine } from "./engine-port.js";
import { removeRunResources } from "./reaper.js";

export interface InterruptCleanupOptions {
  engine: DockerEngine;
  runId: string;
  /** Aborted on the first signal, so running steps stop at once. */
  controller?: AbortController | undefined;
  /** Called after cleanup; default: exit 130 (SIGINT) or 143 (SIGTERM). */
  onCleaned?: ((signal: NodeJS.Signals) => void) | undefined;
  log?: ((line: string) => void) | undefined;
}

const EXIT_BY_SIGNAL: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Installs the handlers; returns a function that uninstalls them (call it when the run ends). */
export function installInterruptCleanup(options: InterruptCleanupOptions): () => void {
  let cleaning = false;
  const handler = (signal: NodeJS.Signals): void => {
    const exitCode = EXIT_BY_SIGNAL[signal] ?? 1;
    if (cleaning) {
      // A second signal: the user does not want to wait for the cleanup.
      process.exit(exitCode);
    }
    cleaning = true;
    options.controller?.abort(new Error(`interrupted by ${signal}`));
    options.log?.(`${signal}: removing the containers of run ${options.runId}...`);
    removeRunResources(options.engine, options.runId)
      .catch((error: unknown) =>
        options.log?.(`cleanup failed: ${(error as Error).message}; run \`replay-runner gc\``),
      )
      .finally(() => {
        if (options.onCleaned) options.onCleaned(signal);
        else process.exit(exitCode);
      });
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
