/**
 * Builds registry rows and blobs the way production writes them, for tests. Rows go in with
 * plain parameterised SQL so tests can also build what production should never contain.
 */
import { Readable } from "node:stream";
import { BlobStore } from "../../src/blobs/index.js";
import type { SqlQueryable } from "../../src/db/index.js";
import { contentHashOf, envHashOf, inputHashOf } from "../../src/hashing/index.js";

export interface ArtifactOptions {
  type?: string;
  title?: string | null;
  mediaType?: string | null;
  /** false: record the row but do not write the blob (a missing blob). */
  storeBlob?: boolean;
  /** Override the recorded hash (a row that lies about its payload). */
  contentHash?: string;
  /** The artifact's metadata (e.g. `image_id`, which `replay-runner run` records). */
  metadata?: Record<string, unknown>;
}

export interface StepOptions {
  id: string;
  source?: string | null;
  target: string;
  stepType: string;
  method?: string;
  parameters?: unknown;
  /** "auto" (default) computes it from the inputs' recorded hashes, as production did. */
  inputHash?: string | null;
  envHash?: string | null;
  traceId?: string | null;
  startedAt?: Date | null;
  completedAt?: Date | null;
  /** Rows of processing_step_inputs, in position order. */
  inputs?: { name: string; artifactId: string }[];
}

export class RegistryFixture {
  readonly hashes = new Map<string, string>();

  constructor(
    readonly db: SqlQueryable,
    readonly blobs: BlobStore,
  ) {}

  async blob(payload: string | Uint8Array): Promise<string> {
    const stored = await this.blobs.putStream(Readable.from([Buffer.from(payload)]));
    return stored.contentHash;
  }

  async artifact(id: string, payload: string | Uint8Array, options: ArtifactOptions = {}): Promise<string> {
    const bytes = Buffer.from(payload);
    const hash = options.contentHash ?? contentHashOf(bytes);
    if (options.storeBlob !== false) await this.blob(bytes);
    await this.db.query(
      `INSERT INTO artifacts (id, artifact_type, title, content_hash, size_bytes, media_type, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        id,
        options.type ?? "dataset",
        options.title ?? null,
        hash,
        bytes.length,
        options.mediaType ?? null,
        JSON.stringify(options.metadata ?? {}),
      ],
    );
    this.hashes.set(id, hash);
    return hash;
  }

  async environment(baseImage: string, lockfileKind: string, requirementsLock: string): Promise<string> {
    const envHash = envHashOf({ baseImage, lockfileKind, requirementsLock });
    await this.db.query(
      `INSERT INTO environments (env_hash, base_image, lockfile_kind, requirements_lock) VALUES ($1, $2, $3, $4)
       ON CONFLICT (env_hash) DO NOTHING`,
      [envHash, baseImage, lockfileKind, requirementsLock],
    );
    return envHash;
  }

  /**
   * A container step running `script` (a transform unless `stepType` says otherwise): the
   * target artifact recorded with `payload`, the script's blob, and the step row with
   * `code_hash` and any other `parameters`.
   */
  async scriptStep(
    options: Omit<StepOptions, "stepType" | "parameters"> & {
      payload: string | Uint8Array;
      script: string;
      stepType?: string;
      parameters?: Record<string, unknown>;
    },
  ): Promise<void> {
    const { payload, script, parameters, ...step } = options;
    await this.artifact(step.target, payload);
    await this.step({
      stepType: "transform",
      ...step,
      parameters: { code_hash: await this.blob(script), ...parameters },
    });
  }

  async step(options: StepOptions): Promise<void> {
    let inputHash: string | null = options.inputHash === undefined ? "auto" : options.inputHash;
    if (inputHash === "auto") {
      const named = options.inputs
        ? options.inputs.map((i) => ({ name: i.name, contentHash: this.hashOf(i.artifactId) }))
        : options.source
          ? [{ name: "source", contentHash: this.hashOf(options.source) }]
          : [];
      inputHash = inputHashOf(named, options.inputs !== undefined);
    }
    const source = options.source !== undefined ? options.source : (options.inputs?.[0]?.artifactId ?? null);
    await this.db.query(
      `INSERT INTO processing_steps (id, source_artifact_id, target_artifact_id, step_type, method, parameters,
         input_hash, env_hash, trace_id, started_at, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        options.id,
        source,
        options.target,
        options.stepType,
        options.method ?? `${options.stepType} ${options.target}`,
        JSON.stringify(options.parameters ?? {}),
        inputHash,
        options.envHash ?? null,
        options.traceId ?? null,
        options.startedAt === undefined ? new Date("2026-01-02T03:04:05.678Z") : options.startedAt,
        options.completedAt ?? null,
      ],
    );
    for (const [position, input] of (options.inputs ?? []).entries()) {
      await this.db.query(
        `INSERT INTO processing_step_inputs (step_id, position, name, artifact_id) VALUES ($1, $2, $3, $4)`,
        [options.id, position, input.name, input.artifactId],
      );
    }
  }

  hashOf(artifactId: string): string {
    const hash = this.hashes.get(artifactId);
    if (hash === undefined) throw new Error(`fixture: no artifact ${artifactId} recorded yet`);
    return hash;
  }
}
