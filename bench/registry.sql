-- Benchmark 4's generated registry: a chain of :chain transform steps from the recorded
-- artifact `seed`, each step a copy of the recorded step `proto` (same script, same
-- environment), plus :filler unrelated steps in chains of 100 that never touch it.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO artifacts (id, artifact_type, content_hash, size_bytes)
SELECT 'chain-' || i, 'dataset', a.content_hash, a.size_bytes
FROM generate_series(1, :chain) AS i, artifacts a WHERE a.id = 'seed';

INSERT INTO processing_steps (id, source_artifact_id, target_artifact_id, step_type, method, parameters,
  input_hash, env_hash, started_at, completed_at)
SELECT 'cstep-' || i, CASE WHEN i = 1 THEN 'seed' ELSE 'chain-' || (i - 1) END, 'chain-' || i,
  p.step_type, p.method, p.parameters, p.input_hash, p.env_hash, p.started_at, p.completed_at
FROM generate_series(1, :chain) AS i, processing_steps p WHERE p.id = (
  SELECT id FROM processing_steps WHERE target_artifact_id = 'proto');

INSERT INTO artifacts (id, artifact_type, content_hash, size_bytes)
SELECT 'filler-' || i, 'dataset', 'sha256:' || encode(sha256(('filler-' || i)::bytea), 'hex'), 100
FROM generate_series(1, :filler) AS i;

INSERT INTO processing_steps (id, source_artifact_id, target_artifact_id, step_type, method, parameters,
  input_hash, env_hash, started_at)
SELECT 'fstep-' || i, CASE WHEN i % 100 = 1 THEN NULL ELSE 'filler-' || (i - 1) END, 'filler-' || i,
  CASE WHEN i % 100 = 1 THEN 'ingest' ELSE 'transform' END, 'generated', p.parameters, NULL, p.env_hash,
  p.started_at
FROM generate_series(1, :filler) AS i, processing_steps p WHERE p.target_artifact_id = 'proto';
COMMIT;
ANALYZE;
