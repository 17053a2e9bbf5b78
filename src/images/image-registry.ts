/**
 * A shared OCI registry of replay-runner's images (REPLAY_IMAGE_REGISTRY): pull an image only
 * after its labels (read from the registry, before any layer moves) say it is the one wanted,
 * by digest, then check the engine's copy again; push after a local build. Every pull and push
 * pins `key -> digest` in the image cache, and a pinned key is only ever pulled by that digest.
 */
import { ReplayError, messageOf } from "../errors/index.js";
import {
  EngineRequestError,
  type DockerEngine,
  type ImageInfo,
  type RegistryAuthConfig,
} from "../runner/index.js";
import type { ImageCache } from "./image-cache.js";
import { repositoryOf, repositoryPath, type RegistryAddress } from "./registry-address.js";
import { registryCredentials } from "./registry-credentials.js";
import { visibleText } from "../terminal/index.js";
import { RegistryHttp } from "./registry-http.js";

/** One of replay-runner's images, as it is named locally and in the registry. */
export interface SharedImageSpec {
  /** Repository name under the registry's prefix: replay-env, replay-base. */
  name: string;
  /** Tag in the registry. */
  tag: string;
  /** The image cache's key: an env_hash, or the base image reference. */
  key: string;
  /** Where the pulled image is tagged in the engine (replay-env:<hex>, replay-base:bookworm). */
  local: { repository: string; tag: string };
  /** For messages: "environment sha256:...". */
  what: string;
  /** null when these labels are the image wanted; otherwise why not. */
  check(labels: Record<string, string>): string | null;
}

export type PullOutcome =
  | { kind: "pulled"; imageId: string; digest: string; reference: string }
  /** The registry does not have it (nothing to warn about: it is built and pushed). */
  | { kind: "absent"; why: string }
  /** The registry has an image under that name that is not the one wanted, or lost a pinned one. */
  | { kind: "refused"; why: string }
  /** The registry is down, refuses, or a transfer failed. */
  | { kind: "unavailable"; why: string };

export interface ImageRegistryOptions {
  engine: DockerEngine;
  address: RegistryAddress;
  cache: ImageCache | Promise<ImageCache>;
  /** REPLAY_IMAGE_REGISTRY_INSECURE: plain HTTP allowed beyond loopback. */
  insecure?: boolean | undefined;
  /** Default: Docker's config.json (registry-credentials.ts). */
  credentials?: (() => Promise<RegistryAuthConfig>) | undefined;
  /** Default 120 s without progress from a pull or push. */
  idleTimeoutMs?: number | undefined;
}

export class ImageRegistry {
  readonly address: RegistryAddress;
  private readonly engine: DockerEngine;
  private readonly cache: Promise<ImageCache>;
  private readonly http: RegistryHttp;
  private readonly credentials: () => Promise<RegistryAuthConfig>;
  private readonly idleTimeoutMs: number | undefined;

  constructor(options: ImageRegistryOptions) {
    this.address = options.address;
    this.engine = options.engine;
    this.cache = Promise.resolve(options.cache);
    this.cache.catch(() => undefined); // reported where it is used
    let credentials: Promise<RegistryAuthConfig> | undefined;
    const load = options.credentials ?? (() => registryCredentials(options.address.host));
    // Read once per process, when first needed (never at start-up: most replays need none).
    this.credentials = () => (credentials ??= load());
    this.http = new RegistryHttp({
      address: options.address,
      credentials: this.credentials,
      insecure: options.insecure === true,
    });
    this.idleTimeoutMs = options.idleTimeoutMs;
  }

  repository(name: string): string {
    return repositoryOf(this.address, name);
  }

  /** The digest this engine's copy of an image has in this registry (after a push or pull). */
  localDigest(info: ImageInfo, name: string): string | null {
    const prefix = `${this.repository(name)}@`;
    const found = info.repoDigests.find((d) => d.startsWith(prefix));
    return found === undefined ? null : found.slice(prefix.length);
  }

  async pinned(key: string): Promise<string | null> {
    return (await (await this.cache).get(this.address.text, key))?.digest ?? null;
  }

  async pull(spec: SharedImageSpec, signal?: AbortSignal): Promise<PullOutcome> {
    const repository = this.repository(spec.name);
    const path = repositoryPath(this.address, spec.name);
    try {
      const cache = await this.cache;
      const pin = await cache.get(this.address.text, spec.key);
      // Once pinned, never the tag again: a moved tag cannot change what runs.
      const reference = pin?.digest ?? spec.tag;
      const shown = pin === null ? `${repository}:${spec.tag}` : `${repository}@${pin.digest}`;
      const remote = await this.http.manifest(path, reference, signal);
      if (remote === null) {
        return pin === null
          ? { kind: "absent", why: `${shown} is not in the registry` }
          : {
              kind: "refused",
              why: `the registry no longer has ${shown}, the digest pinned for ${spec.what}`,
            };
      }
      const labels = await this.http.configLabels(path, remote.configDigest, signal);
      const problem = spec.check(labels);
      if (problem !== null) {
        return {
          kind: "refused",
          why: `refused the registry's image ${shown} (${remote.digest}): ${problem}`,
        };
      }
      const byDigest = `${repository}@${remote.digest}`;
      await this.engine.pullImage(byDigest, {
        auth: await this.credentials(),
        signal,
        idleTimeoutMs: this.idleTimeoutMs,
      });
      const info = await this.engine.inspectImage(byDigest);
      // The engine checked the bytes against the digest; check what it made of them too.
      const after =
        info === null
          ? "it is not in the engine after the pull"
          : info.id !== remote.configDigest
            ? `the engine made image ${info.id} of it, not ${remote.configDigest}`
            : spec.check(info.labels);
      if (info === null || after !== null) {
        if (info !== null) await this.engine.removeImage(byDigest).catch(() => undefined);
        return { kind: "refused", why: `refused ${byDigest}: ${after ?? "no image"}` };
      }
      await this.engine.tagImage(info.id, spec.local.repository, spec.local.tag);
      await cache.put({
        registry: this.address.text,
        key: spec.key,
        digest: remote.digest,
        imageId: info.id,
        via: pin?.via ?? "pulled",
      });
      return { kind: "pulled", imageId: info.id, digest: remote.digest, reference: byDigest };
    } catch (error) {
      if (signal?.aborted === true) throw error;
      if (error instanceof ReplayError && error.code !== "IMAGE_REGISTRY") throw error;
      return {
        kind: "unavailable",
        why: `the image registry ${this.address.text} could not serve ${spec.what}: ${visibleText(messageOf(error)).replace(/\.$/, "")}`,
      };
    }
  }

  /** Tags the image under the registry's name and pushes it; the registry's digest, pinned. */
  async push(imageId: string, spec: SharedImageSpec, signal?: AbortSignal): Promise<string> {
    const repository = this.repository(spec.name);
    try {
      // The same HTTPS-or-allowed-HTTP rule as for reads, before the engine sends anything.
      await this.http.tags(repositoryPath(this.address, spec.name), signal);
      await this.engine.tagImage(imageId, repository, spec.tag);
      const { digest } = await this.engine.pushImage(repository, spec.tag, {
        auth: await this.credentials(),
        signal,
        idleTimeoutMs: this.idleTimeoutMs,
      });
      await (
        await this.cache
      ).put({ registry: this.address.text, key: spec.key, digest, imageId, via: "pushed" });
      return digest;
    } catch (error) {
      if (signal?.aborted === true) throw error;
      if (
        error instanceof EngineRequestError ||
        (error instanceof ReplayError && error.code === "IMAGE_REGISTRY")
      ) {
        throw new ReplayError(
          "IMAGE_REGISTRY",
          `Pushing ${repository}:${spec.tag} failed: ${visibleText(messageOf(error)).replace(/\.$/, "")}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  /** The tags of one of replay-runner's repositories in the registry. */
  tags(name: string, signal?: AbortSignal): Promise<string[]> {
    return this.http.tags(repositoryPath(this.address, name), signal);
  }

  async cacheEntries() {
    return (await this.cache).list(this.address.text);
  }
}
