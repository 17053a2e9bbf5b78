/**
 * The embedded registry's queue: one process holds PGlite, so the queued rows of
 * replay_runner.replays are the queue. A restart loses nothing: queued rows are still queued.
 */
import type { SqlQueryable } from "../db/index.js";
import { nextQueuedReplay } from "./replay-store.js";
import type { ReplayJobHandler, ReplayQueue } from "./replay-queue.js";

export interface EmbeddedQueueOptions {
  concurrency: number;
  /** How often to look for queued rows when nothing woke the loop (a safety net). */
  pollMs?: number;
  onError: (error: unknown) => void;
}

export class EmbeddedReplayQueue implements ReplayQueue {
  readonly kind = "embedded";
  private stopped = false;
  private readonly sleepers = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];
  private readonly taken = new Set<string>();

  constructor(
    private readonly db: SqlQueryable,
    private readonly options: EmbeddedQueueOptions,
  ) {}

  start(handler: ReplayJobHandler): Promise<void> {
    for (let i = 0; i < Math.max(1, this.options.concurrency); i++) this.loops.push(this.loop(handler));
    return Promise.resolve();
  }

  dispatch(): Promise<string | null> {
    this.wakeAll();
    return Promise.resolve(null);
  }

  abandon(): Promise<void> {
    // No job record besides the row, which the sweep has already settled.
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeAll();
    await Promise.all(this.loops);
  }

  private async loop(handler: ReplayJobHandler): Promise<void> {
    while (!this.stopped) {
      let id: string | null = null;
      try {
        id = await nextQueuedReplay(this.db);
        // Another loop of this process may be claiming the same row right now.
        if (id !== null && this.taken.has(id)) id = null;
        if (id !== null) {
          this.taken.add(id);
          await handler(id, null);
        }
      } catch (error) {
        this.options.onError(error);
      } finally {
        if (id !== null) this.taken.delete(id);
      }
      if (id === null && !this.isStopped()) await this.sleep();
    }
  }

  /** A method, so the compiler does not assume the flag keeps the value it had at the loop's test. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.options.pollMs ?? 2000);
      this.sleepers.add(wake);
    });
  }
}
