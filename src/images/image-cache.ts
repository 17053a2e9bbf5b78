/**
 * Which manifest digest replay-runner takes for an image from a registry, once it has pushed
 * or pulled it: `replay_runner.image_cache` (registry, env_hash or base image) -> digest. From
 * then on that image is pulled by digest, so a tag moved in the registry cannot change what a
 * step runs in. Runners sharing one PostgreSQL registry share the pins.
 */
import type { SqlQueryable } from "../db/index.js";

export interface CachedImage {
  /** REPLAY_IMAGE_REGISTRY as normalised (`host[:port][/prefix]`). */
  registry: string;
  /** The env_hash of a pip environment, or a base image's reference. */
  key: string;
  /** The registry's manifest digest (sha256:...). */
  digest: string;
  /** The engine's image id (the config digest). */
  imageId: string;
  /** How this runner came to know it. */
  via: "pushed" | "pulled";
  updatedAt?: Date | undefined;
}

export interface ImageCache {
  get(registry: string, key: string): Promise<CachedImage | null>;
  put(entry: CachedImage): Promise<void>;
  list(registry?: string): Promise<CachedImage[]>;
}

/** For a resolver without a registry database (tests, benchmarks): pins last as long as the process. */
export class MemoryImageCache implements ImageCache {
  private readonly entries = new Map<string, CachedImage>();

  get(registry: string, key: string): Promise<CachedImage | null> {
    return Promise.resolve(this.entries.get(`${registry}\n${key}`) ?? null);
  }

  put(entry: CachedImage): Promise<void> {
    this.entries.set(`${entry.registry}\n${entry.key}`, { ...entry, updatedAt: new Date() });
    return Promise.resolve();
  }

  list(registry?: string): Promise<CachedImage[]> {
    return Promise.resolve(
      [...this.entries.values()].filter((e) => registry === undefined || e.registry === registry),
    );
  }
}

interface Row {
  registry: string;
  image_key: string;
  digest: string;
  image_id: string;
  via: string;
  updated_at: Date | string;
}

function fromRow(row: Row): CachedImage {
  return {
    registry: row.registry,
    key: row.image_key,
    digest: row.digest,
    imageId: row.image_id,
    via: row.via === "pushed" ? "pushed" : "pulled",
    updatedAt: new Date(row.updated_at),
  };
}

export class SqlImageCache implements ImageCache {
  constructor(private readonly db: SqlQueryable) {}

  async get(registry: string, key: string): Promise<CachedImage | null> {
    const rows = await this.db.query<Row>(
      `SELECT registry, image_key, digest, image_id, via, updated_at FROM replay_runner.image_cache
        WHERE registry = $1 AND image_key = $2`,
      [registry, key],
    );
    return rows[0] === undefined ? null : fromRow(rows[0]);
  }

  async put(entry: CachedImage): Promise<void> {
    await this.db.query(
      `INSERT INTO replay_runner.image_cache (registry, image_key, digest, image_id, via)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (registry, image_key) DO UPDATE
         SET digest = EXCLUDED.digest, image_id = EXCLUDED.image_id, via = EXCLUDED.via, updated_at = now()`,
      [entry.registry, entry.key, entry.digest, entry.imageId, entry.via],
    );
  }

  async list(registry?: string): Promise<CachedImage[]> {
    const rows = await this.db.query<Row>(
      `SELECT registry, image_key, digest, image_id, via, updated_at FROM replay_runner.image_cache
        WHERE $1::text IS NULL OR registry = $1 ORDER BY registry, image_key`,
      [registry ?? null],
    );
    return rows.map(fromRow);
  }
}
