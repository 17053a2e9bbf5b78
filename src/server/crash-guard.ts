/**
 * What `serve` does with an error that escaped everything (an uncaught exception, an unhandled
 * rejection). One that came from a replay fails that replay and the server goes on
 * (replay-worker.ts absorbCrash). One that belongs to no replay leaves the process in a state
 * nobody knows: it is logged with its stack and the server stops cleanly (running replays
 * interrupted, their containers removed), exit 70; a second one while stopping exits at once.
 */
import { interceptCrashes, stackOf } from "../errors/index.js";

export interface CrashGuardOptions {
  absorbCrash: (error: unknown) => boolean;
  log: (line: string) => void;
  /** Starts the clean shutdown after an error outside any replay. */
  onFatal: (error: unknown) => void;
}

/** Installs the guard in front of the CLI's last line of defence; the returned function removes it. */
export function guardServerCrashes(options: CrashGuardOptions): () => void {
  let fatal = false;
  return interceptCrashes((error) => {
    if (options.absorbCrash(error)) return true;
    if (fatal) return false;
    fatal = true;
    options.log(`internal error outside any replay; shutting down (exit 70):\n${stackOf(error)}`);
    options.onFatal(error);
    return true;
  });
}
