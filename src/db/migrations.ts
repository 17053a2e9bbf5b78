/**
 * replay-runner's own tables live in the `replay_runner` schema, created by versioned
 * migrations. The contract's four tables are never altered.
 */
import type { SqlClient } from "./sql-client.js";
import { CONTRACT_SCHEMA_SQL } from "./contract-schema.js";

export const OWN_SCHEMA = "replay_runner";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "replays",
    sql: `
      CREATE TABLE replay_runner.replays (
        id                 text PRIMARY KEY,
        target_artifact_id text NOT NULL,
        status             text NOT NULL,        -- queued | running | succeeded | failed | interrupted (version 3: finished replaces succeeded)
        options            jsonb NOT NULL DEFAULT '{}'::jsonb,
        out_dir            text,
        idempotency_key    text UNIQUE,
        created_at         timestamptz NOT NULL DEFAULT now(),
        started_at         timestamptz,
        finished_at        timestamptz,
        exit_code          integer,
        progress           jsonb NOT NULL DEFAULT '[]'::jsonb,
        manifest           jsonb,
        error              jsonb
      );
      CREATE INDEX replays_target_idx ON replay_runner.replays (target_artifact_id, created_at DESC);
    `,
  },
  {
    // `replay-runner serve` (src/server): replays queued through the API are rows that a worker
    // claims; its heartbeat and pid let another server tell a dead worker from a slow one.
    version: 2,
    name: "served replays",
    sql: `
      ALTER TABLE replay_runner.replays
        ADD COLUMN submitted_via       text,      -- 'api' for replays queued by serve; NULL: the CLI
        ADD COLUMN attempts            integer NOT NULL DEFAULT 0,
        ADD COLUMN job_id              text,      -- pg-boss job that dispatched the current attempt
        ADD COLUMN worker_id           text,      -- one per serve process (pids are reused, e.g. pid 1 in a container)
        ADD COLUMN worker_host         text,
        ADD COLUMN worker_pid          integer,
        ADD COLUMN heartbeat_at        timestamptz,
        ADD COLUMN cancel_requested_at timestamptz,
        ADD COLUMN plan                jsonb;     -- the steps the replay will run, for live pages
      CREATE INDEX replays_status_idx ON replay_runner.replays (status) WHERE status IN ('queued', 'running');
    `,
  },
  {
    // A replay's life and its verdict are two things: `status` is queued | running | finished |
    // interrupted | failed (could not run at all), `verdict` is reproduced | not_reproduced once
    // finished. Until now a finished replay with mismatches was "failed", like one that could not
    // run. The worker_* columns now also name the process of a CLI replay (`c-...` ids), with
    // heartbeats, so that whoever finds its process gone marks it interrupted.
    version: 3,
    name: "replay verdicts",
    sql: `
      ALTER TABLE replay_runner.replays ADD COLUMN verdict text;  -- reproduced | not_reproduced | NULL
      UPDATE replay_runner.replays SET status = 'finished', verdict = 'reproduced' WHERE status = 'succeeded';
      UPDATE replay_runner.replays SET status = 'finished', verdict = 'not_reproduced'
        WHERE status = 'failed' AND manifest IS NOT NULL AND manifest->>'status' = 'not_reproduced';
    `,
  },
  {
    // Shared environment images (src/images/image-cache.ts): once an image was pushed to or
    // pulled from a registry, it is pulled by this digest, never by its tag again.
    version: 4,
    name: "image cache",
    sql: `
      CREATE TABLE replay_runner.image_cache (
        registry   text NOT NULL,            -- REPLAY_IMAGE_REGISTRY: host[:port][/prefix]
        image_key  text NOT NULL,            -- env_hash of a pip environment, or a base image reference
        digest     text NOT NULL,            -- the registry's manifest digest, sha256:...
        image_id   text NOT NULL,            -- the engine's image id (config digest)
        via        text NOT NULL,            -- pushed | pulled
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (registry, image_key)
      );
    `,
  },
  {
    // Image drift (src/diagnose/image-drift.ts): per step, the image of the last replay in which
    // it reproduced, written when a replay finishes; one row per step, read by primary key.
    version: 5,
    name: "reproduced images",
    sql: `
      CREATE TABLE replay_runner.reproduced_images (
        step_id       text PRIMARY KEY,
        image_id      text NOT NULL,
        replay_id     text NOT NULL,
        reproduced_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    // A reproducibility history per artifact (src/history/): one row per finished replay or
    // batch that verified it, read newest first by artifact (the timeline, the badge).
    version: 6,
    name: "artifact history",
    sql: `
      CREATE TABLE replay_runner.artifact_history (
        artifact_id  text NOT NULL,
        run_id       text NOT NULL,            -- the replay's id (r-...) or the batch's (v-...)
        run_kind     text NOT NULL CHECK (run_kind IN ('replay', 'batch')),
        verified_at  timestamptz NOT NULL,
        verdict      text NOT NULL CHECK (verdict IN ('reproduced', 'not_reproduced')),
        content_hash text NOT NULL,            -- the artifact's content_hash it was verified against
        tool_version text NOT NULL,
        images       jsonb NOT NULL,           -- [{step_id, ref, id}]: the image each container step ran in
        origins      jsonb NOT NULL,           -- [{step_id, reason}]: where it diverged
        PRIMARY KEY (artifact_id, run_id)
      );
      CREATE INDEX artifact_history_latest_idx ON replay_runner.artifact_history (artifact_id, verified_at DESC);
    `,
  },
  {
    // Batches (src/fleet/batch-record.ts): every verify, from the command line or on serve's
    // schedule, for the /verifications page.
    version: 7,
    name: "verification batches",
    sql: `
      CREATE TABLE replay_runner.verifications (
        id          text PRIMARY KEY,            -- v-...
        trigger     text NOT NULL CHECK (trigger IN ('command', 'schedule')),
        selection   text NOT NULL,
        status      text NOT NULL CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
        verdict     text CHECK (verdict IN ('reproduced', 'not_reproduced')),
        out_dir     text NOT NULL,
        summary     jsonb,
        error       text,
        started_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX verifications_started_idx ON replay_runner.verifications (started_at DESC);
    `,
  },
  {
    // A batch names its process and beats like a replay (replay/dead-owners.ts), so that one
    // whose process died (SIGKILL, a crash) is marked interrupted instead of running forever.
    version: 8,
    name: "batch owners",
    sql: `
      ALTER TABLE replay_runner.verifications
        ADD COLUMN worker_id text, ADD COLUMN worker_host text, ADD COLUMN worker_pid integer,
        ADD COLUMN heartbeat_at timestamptz;
    `,
  },
  {
    // Queued batches (src/fleet/queued/): `verify --queue` stores the plan and one row per
    // distinct step; workers on any host claim, run and record the steps (pg-boss jobs), and
    // whoever records the last one sends the batch's finalize job. A queued batch has no owner
    // process: it stays 'queued' until finalized, and its steps' rows carry the owners.
    version: 9,
    name: "queued batches",
    sql: `
      ALTER TABLE replay_runner.verifications DROP CONSTRAINT verifications_status_check;
      ALTER TABLE replay_runner.verifications
        ADD CONSTRAINT verifications_status_check
          CHECK (status IN ('queued', 'running', 'finished', 'interrupted', 'failed')),
        ADD COLUMN plan jsonb;
      CREATE TABLE replay_runner.batch_steps (
        batch_id       text NOT NULL REFERENCES replay_runner.verifications (id) ON DELETE CASCADE,
        step_id        text NOT NULL,
        position       integer NOT NULL,
        target_artifact_id text NOT NULL,
        upstream       jsonb NOT NULL,           -- ids of the batch's steps it consumes
        dependents     integer NOT NULL,         -- targets whose chain holds it
        status         text NOT NULL CHECK (status IN ('waiting', 'queued', 'running', 'done')),
        attempts       integer NOT NULL DEFAULT 0,
        job_id         text,
        worker_id      text,
        worker_host    text,
        worker_pid     integer,
        heartbeat_at   timestamptz,
        row            jsonb,                    -- its manifest row, once done
        replayed_hash  text,                     -- its replayed output in the batch's store
        replayed_size  bigint,
        started_at     timestamptz,
        finished_at    timestamptz,
        PRIMARY KEY (batch_id, step_id)
      );
      CREATE INDEX batch_steps_running_idx ON replay_runner.batch_steps (batch_id) WHERE status = 'running';
    `,
  },
];

/** Applies pending migrations in one transaction each; cheap (one query) when up to date. */
export async function migrate(client: SqlClient): Promise<number[]> {
  await client.exec(
    `CREATE SCHEMA IF NOT EXISTS ${OWN_SCHEMA};
     CREATE TABLE IF NOT EXISTS ${OWN_SCHEMA}.schema_migrations (
       version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());`,
  );
  const rows = await client.query<{ version: number }>(`SELECT version FROM ${OWN_SCHEMA}.schema_migrations`);
  const applied = new Set(rows.map((r) => r.version));
  const done: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    await client.transaction(async (tx) => {
      // Two processes migrating one PostgreSQL database at once: the second waits here.
      if (client.backend === "postgres") await tx.query("SELECT pg_advisory_xact_lock(7212001)");
      const again = await tx.query(`SELECT 1 FROM ${OWN_SCHEMA}.schema_migrations WHERE version = $1`, [
        m.version,
      ]);
      if (again.length > 0) return;
      await tx.exec(m.sql);
      await tx.query(`INSERT INTO ${OWN_SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
      done.push(m.version);
    });
  }
  return done;
}

/** Creates the contract's tables (when missing) and replay-runner's own schema. */
export async function initRegistry(client: SqlClient): Promise<void> {
  await client.exec(CONTRACT_SCHEMA_SQL);
  await migrate(client);
}
