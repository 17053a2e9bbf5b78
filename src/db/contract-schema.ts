/**
 * The production registry's schema, verbatim: production's registry.sql, compared byte for byte
 * by test/db/contract-schema.test.ts. Its comments' "contract/README.md" is, in this project,
 * docs/registry-contract.md.
 */
export const CONTRACT_SCHEMA_SQL = `-- The production provenance registry that replay-runner reads.
--
-- This is the schema as it exists in the field: the research platform's
-- artifact registry writes these tables on every transformation, and its
-- deterministic sandbox writes \`environments\`. replay-runner must read a
-- registry with exactly these tables and columns, unchanged. It may keep its
-- own tables (replays, image cache, jobs, ...) in a separate schema of its own,
-- and it never writes to these four tables during a replay.
--
-- Production does NOT enforce the foreign keys written in comments below:
-- real registries contain dangling references, and replay-runner must report
-- them clearly instead of crashing.

CREATE TABLE IF NOT EXISTS artifacts (
  id            text PRIMARY KEY,
  artifact_type text NOT NULL,             -- dataset | table | figure | analysis_result | citation | summary | ...
  title         text,
  content_hash  text NOT NULL,             -- 'sha256:' || 64 lowercase hex of the payload bytes
  size_bytes    bigint,
  media_type    text,                      -- e.g. text/csv, application/json, image/svg+xml
  created_at    timestamptz NOT NULL DEFAULT now(),
  metadata      jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Captured by the deterministic sandbox for every step it ran.
CREATE TABLE IF NOT EXISTS environments (
  env_hash          text PRIMARY KEY,      -- see contract/README.md, "env_hash"
  base_image        text NOT NULL,         -- image reference, e.g. 'replay-base:bookworm'
  lockfile_kind     text NOT NULL,         -- 'none' | 'pip'
  requirements_lock text NOT NULL DEFAULT '', -- pip hash-checking format when lockfile_kind = 'pip'
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per transformation: target was produced from source by method.
CREATE TABLE IF NOT EXISTS processing_steps (
  id                 text PRIMARY KEY,
  source_artifact_id text,                 -- -> artifacts.id; NULL for steps with no input (ingest)
  target_artifact_id text NOT NULL,        -- -> artifacts.id; at most one step produces an artifact
  step_type          text NOT NULL,        -- see contract/README.md, "Step types in production"
  method             text NOT NULL,        -- human-readable description of what ran
  parameters         jsonb NOT NULL DEFAULT '{}'::jsonb,
  input_hash         text,                 -- see contract/README.md, "input_hash"
  env_hash           text,                 -- -> environments.env_hash; NULL when run outside the sandbox
  trace_id           text,                 -- observability trace of the original run
  started_at         timestamptz,
  completed_at       timestamptz
);

-- Only for steps with more than one input. When rows exist for a step, they
-- are its complete, ordered input list (source_artifact_id then equals the
-- artifact at position 0).
CREATE TABLE IF NOT EXISTS processing_step_inputs (
  step_id     text NOT NULL,               -- -> processing_steps.id
  position    integer NOT NULL,            -- 0, 1, 2, ...
  name        text NOT NULL,               -- file name under /in/ inside the container
  artifact_id text NOT NULL,               -- -> artifacts.id
  PRIMARY KEY (step_id, position)
);

CREATE INDEX IF NOT EXISTS processing_steps_target_idx ON processing_steps (target_artifact_id);
CREATE INDEX IF NOT EXISTS processing_steps_source_idx ON processing_steps (source_artifact_id);
`;

/** The four tables replay-runner reads and never writes during a replay. */
export const CONTRACT_TABLES = [
  "artifacts",
  "environments",
  "processing_steps",
  "processing_step_inputs",
] as const;
