/**
 * The CLI's last line of defence (cli.ts) turns an uncaught error into a message and an exit.
 * A long-running command (serve) may claim such an error first: one that came from a replay it
 * runs is that replay's failure, not the server's (replay-worker.ts).
 */
export type CrashInterceptor = (error: unknown) => boolean;

let current: CrashInterceptor | undefined;

/** Installs the interceptor; the returned function removes it again. */
export function interceptCrashes(interceptor: CrashInterceptor): () => void {
  current = interceptor;
  return () => {
    if (current === interceptor) current = undefined;
  };
}

/** True when an interceptor took the error (the process goes on); false: exit as usual. */
export function interceptedCrash(error: unknown): boolean {
  try {
    return current?.(error) ?? false;
  } catch {
    return false;
  }
}
