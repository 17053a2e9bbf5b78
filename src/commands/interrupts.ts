/**
 * SIGINT/SIGTERM become an AbortSignal, so a replay removes its containers and writes a
 * manifest marked interrupted before the process exits 130/143. A second signal exits at once.
 */
import { EXIT } from "../errors/index.js";

export interface InterruptRelay extends AsyncDisposable {
  readonly signal: AbortSignal;
  readonly received: NodeJS.Signals | undefined;
  /** The exit code: 143 or 130 when a signal came, else the verdict's own code. */
  exitCode(verdictCode: number): number;
}

export function relayInterrupts(): InterruptRelay {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received !== undefined) process.exit(sig === "SIGTERM" ? EXIT.sigterm : EXIT.sigint);
    received = sig;
    process.stderr.write(`\n${sig}: stopping the replay, removing its containers (again to exit at once)\n`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    exitCode(verdictCode) {
      return received === "SIGTERM" ? EXIT.sigterm : received === "SIGINT" ? EXIT.sigint : verdictCode;
    },
    [Symbol.asyncDispose]() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      return Promise.resolve();
    },
  };
}
