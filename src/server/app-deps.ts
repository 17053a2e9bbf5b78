/** What buildApp needs; serve-runtime.ts wires the real ones, tests may wire their own. */
import type { SqlClient } from "../db/index.js";
import type { HostAllowList } from "./host-allow-list.js";
import type { ReplayQueue } from "./replay-queue.js";
import type { VerificationRunner } from "./verification-runner.js";

export interface AppDeps {
  db: SqlClient;
  queue: Pick<ReplayQueue, "dispatch">;
  /** Aborts a replay running in this process (false when it is not running here). */
  worker: { cancel(replayId: string): boolean };
  /** Where served replays write: `<replaysDir>/<replay id>/`. */
  replaysDir: string;
  /** The blob store, for downloads of recorded payloads (absent: they answer 404). */
  blobRoot?: string | undefined;
  /** The `Host` names answered; any other gets 421 (DNS rebinding: host-allow-list.ts). */
  hosts: HostAllowList;
  /** REPLAY_API_TOKEN; undefined: mutating endpoints are open (the server is then loopback-only). */
  apiToken: string | undefined;
  newReplayId?: (() => string) | undefined;
  /** Fastify's request log; off by default (tests, and serve prints its own lines). */
  logger?: boolean | undefined;
  /** POST /api/verifications: queued for workers (PostgreSQL) or run here (embedded). */
  verifications?: Pick<VerificationRunner, "submit"> | undefined;
  /** serve's log (stderr): every answer of 500 or more is written there with its stack. */
  log?: ((line: string) => void) | undefined;
}
