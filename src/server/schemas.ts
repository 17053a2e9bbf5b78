/**
 * zod schemas for everything that crosses the server's boundaries: route params, request
 * bodies and headers, and the rows of replay_runner.replays read back (jsonb written by other
 * processes and versions is not trusted to have the shape this version expects).
 */
import { z } from "zod";

/**
 * Ids are registry data: any non-empty text, bounded so a URL cannot carry a novel, and
 * without NUL, which no PostgreSQL text (so no registry id) can hold.
 */
export const idSchema = z
  .string()
  .min(1, "must not be empty")
  .max(512, "must be at most 512 characters")
  .refine((id) => !id.includes("\0"), "must not contain a NUL byte (no registry id can)");

export const artifactParamsSchema = z.object({ id: idSchema });
export const replayParamsSchema = z.object({
  id: z.string().regex(/^r-[0-9A-Za-z-]{1,80}$/, "is not a replay id"),
});
export const diffParamsSchema = replayParamsSchema.extend({ stepId: idSchema });

export const rerunBodySchema = z.strictObject({
  from: idSchema.optional(),
  strict: z.boolean().optional(),
  diff: z.boolean().optional(),
  /** true: triage every origin mismatch; "all": also the steps that reproduced (rerun --triage). */
  triage: z.union([z.boolean(), z.literal("all")], { error: 'must be true, false or "all"' }).optional(),
  repeat: z.number().int().min(2, "must be at least 2").max(20, "must be at most 20").optional(),
});
export type RerunBody = z.infer<typeof rerunBodySchema>;

export const rerunHeadersSchema = z.object({
  "idempotency-key": z
    .string()
    .min(1, "must not be empty")
    .max(200, "must be at most 200 characters")
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .optional(),
});

export const triageScopeSchema = z.enum(["off", "origins", "all"]);

export const replayOptionsSchema = z.object({
  from: z.string().nullable().default(null),
  strict: z.boolean().default(false),
  diff: z.boolean().default(false),
  triage: triageScopeSchema.default("off"),
  repeat: z.number().int().min(2).max(20).default(2),
});
export type StoredReplayOptions = z.infer<typeof replayOptionsSchema>;

/** A replay's life (replay-record.ts); `failed` only when it could not run, never for a verdict. */
export const replayStatusSchema = z.enum(["queued", "running", "finished", "failed", "interrupted"]);
export type ServedReplayStatus = z.infer<typeof replayStatusSchema>;
export const TERMINAL_STATUSES: readonly ServedReplayStatus[] = ["finished", "failed", "interrupted"];
/** A finished replay's verdict: its own member, never folded into `status`. */
export const replayVerdictSchema = z.enum(["reproduced", "not_reproduced"]);

export const stepStatusSchema = z.enum([
  "reproduced",
  "verified",
  "mismatch",
  "failed",
  "unreplayable",
  "interrupted",
]);

export const progressEntrySchema = z.object({
  step_id: z.string(),
  step_type: z.string(),
  status: stepStatusSchema,
  ok: z.boolean(),
  duration_ms: z.number(),
});
export type ProgressEntry = z.infer<typeof progressEntrySchema>;

export const planEntrySchema = z.object({ step_id: z.string(), step_type: z.string(), method: z.string() });
export type PlanEntry = z.infer<typeof planEntrySchema>;

/**
 * A row's `diff`: `{tool, explanation, files, truncated}` since manifest version 2; a version 1
 * manifest (stored before) has the path of its text diff, read as the built-in diff's.
 */
export const stepDiffSchema = z.union([
  z.object({
    tool: z.string().max(100),
    explanation: z.string().max(1000),
    files: z.object({ text: z.string(), html: z.string().nullable(), json: z.string().nullable() }),
    truncated: z.boolean(),
  }),
  z.string().transform((text) => ({
    tool: "builtin",
    explanation: "",
    files: { text, html: null, json: null },
    truncated: false,
  })),
]);
export type StepDiffView = z.infer<typeof stepDiffSchema>;

/** A row's `triage` member (src/diagnose/triage-types.ts), as the pages read it. */
export const stepTriageSchema = z.looseObject({
  verdict: z.string(),
  latent: z.boolean().default(false),
  explanation: z.string(),
  sensitive_to: z.array(z.string()).default([]),
  runs: z
    .array(z.looseObject({ variation: z.string(), detail: z.string(), output_hash: z.string().nullable() }))
    .default([]),
});

/** The members of a manifest the API and pages read; the rest passes through untouched. */
export const manifestStepSchema = z.looseObject({
  step_id: z.string(),
  step_type: z.string(),
  method: z.string().default(""),
  target_artifact_id: z.string().default(""),
  input_hash: z.string().nullable(),
  output_hash_live: z.string(),
  output_hash_replayed: z.string().nullable(),
  ok: z.boolean(),
  reason: z.string().nullable(),
  status: stepStatusSchema,
  divergence: z.enum(["origin", "inherited"]).nullable().default(null),
  // Manifests before version 2 named one origin (a string, or null).
  inherited_from: z.preprocess((v) => (typeof v === "string" ? [v] : (v ?? [])), z.array(z.string())),
  environment: z.string().default("unknown"),
  image: z
    .object({
      ref: z.string(),
      id: z.string(),
      // Absent from manifests written before images were shared through a registry.
      digest: z.string().nullable().default(null),
      source: z.enum(["local", "pulled", "built"]).nullable().default(null),
    })
    .nullable()
    .default(null),
  duration_ms: z.number().default(0),
  diff: stepDiffSchema.nullable().catch(null).default(null),
  triage: stepTriageSchema.nullable().default(null),
  warnings: z.array(z.string()).default([]),
});
export type ManifestStepView = z.infer<typeof manifestStepSchema>;

export const manifestSchema = z.looseObject({
  replay_id: z.string(),
  status: z.enum(["reproduced", "not_reproduced", "interrupted"]),
  started_at: z.string(),
  finished_at: z.string(),
  duration_ms: z.number(),
  summary: z.object({
    steps: z.number(),
    reproduced: z.number(),
    // Manifests written before frozen inputs were counted apart have none.
    verified: z.number().default(0),
    mismatch: z.number(),
    failed: z.number(),
    unreplayable: z.number(),
    interrupted: z.number(),
    triage: z.record(z.string(), z.number()).optional(),
  }),
  first_divergence: z.object({ step_id: z.string(), reason: z.string() }).nullable(),
  // Absent before manifest version 2: the first divergence was the only one named.
  divergence_origins: z.array(z.object({ step_id: z.string(), reason: z.string() })).optional(),
  warnings: z.array(z.string()).default([]),
  steps: z.array(manifestStepSchema),
});
export type ManifestView = z.infer<typeof manifestSchema>;

export const replayErrorJsonSchema = z.looseObject({
  code: z.string().optional(),
  message: z.string(),
  hint: z.string().nullish(),
});

const timestamp = z.coerce.date().nullable();

export const replayRowSchema = z.object({
  id: z.string(),
  target_artifact_id: z.string(),
  status: replayStatusSchema,
  verdict: replayVerdictSchema.nullable(),
  options: z.unknown(),
  out_dir: z.string().nullable(),
  idempotency_key: z.string().nullable(),
  created_at: z.coerce.date(),
  started_at: timestamp,
  finished_at: timestamp,
  exit_code: z.number().nullable(),
  progress: z.unknown(),
  manifest: z.unknown(),
  error: z.unknown(),
  submitted_via: z.string().nullable(),
  attempts: z.number(),
  job_id: z.string().nullable(),
  worker_id: z.string().nullable(),
  worker_host: z.string().nullable(),
  worker_pid: z.number().nullable(),
  heartbeat_at: timestamp,
  cancel_requested_at: timestamp,
  plan: z.unknown(),
});
export type ReplayRow = z.infer<typeof replayRowSchema>;

export const verificationParamsSchema = z.object({
  id: z.string().regex(/^v-[0-9A-Za-z-]{1,80}$/, "is not a batch id"),
});

/** POST /api/verifications: `verify`'s selection and options, in the API's snake case. */
export const verificationBodySchema = z
  .object({
    artifact_ids: z.array(idSchema).max(100_000).optional(),
    all: z.boolean().optional(),
    type: z.string().min(1).max(200).optional(),
    recorded_since: z.union([z.iso.date(), z.iso.datetime({ offset: true })]).optional(),
    sample: z.number().int().min(1).max(10_000_000).optional(),
    seed: z.string().min(1).max(200).optional(),
    max_steps: z.number().int().min(1).max(100_000_000).optional(),
    strict: z.boolean().optional(),
    diff: z.boolean().optional(),
  })
  .strict()
  .refine(
    (b) =>
      (b.artifact_ids?.length ?? 0) > 0 ||
      b.all === true ||
      b.type !== undefined ||
      b.recorded_since !== undefined,
    {
      error: "nothing is selected: give artifact_ids, all, type or recorded_since",
    },
  )
  .refine((b) => !(b.all === true && (b.artifact_ids?.length ?? 0) > 0), {
    error: "name artifact_ids or give all, not both",
  })
  .refine((b) => (b.sample === undefined) === (b.seed === undefined), {
    error: "sample and seed go together: the seed makes the sample reproducible",
  });

export type VerificationBody = z.infer<typeof verificationBodySchema>;
