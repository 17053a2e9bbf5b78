/**
 * The few Docker Engine operations replay-runner needs, as an interface: the runner, the image
 * resolver and the reaper depend on this, and only docker-engine.ts knows dockerode.
 */
import type { Readable } from "node:stream";
import type { ContainerCreateBody } from "./container-spec.js";

/** A request the engine answered with an error status (404, 409, 500, ...). */
export class EngineRequestError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EngineRequestError";
    this.statusCode = statusCode;
  }
}

export interface LabelledResource {
  /** Container id or volume name. */
  id: string;
  labels: Record<string, string>;
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  tags: string[];
  /** `registry/name@sha256:...` for each registry this image was pushed to or pulled from. */
  repoDigests: string[];
}

/**
 * Credentials for one registry in the Engine API's shape (sent base64url-encoded as
 * X-Registry-Auth). An empty object is "no credentials": push refuses a missing header.
 */
export interface RegistryAuthConfig {
  username?: string | undefined;
  password?: string | undefined;
  identitytoken?: string | undefined;
  registrytoken?: string | undefined;
  serveraddress?: string | undefined;
}

export interface RegistryTransferOptions {
  auth: RegistryAuthConfig;
  signal?: AbortSignal | undefined;
  /** Give up when the engine reports no progress for this long (a registry that hangs). */
  idleTimeoutMs?: number | undefined;
}

export interface ImageBuildOptions {
  tag: string;
  labels: Record<string, string>;
  /** "none" for builds that need no network (wheelhouse); default: the engine's bridge. */
  networkMode?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface ImageBuildOutcome {
  /** Undefined when the build failed. */
  imageId: string | undefined;
  error: string | undefined;
  /** The last lines of the build output, for error messages. */
  logTail: string;
  /** Images of the steps that completed, in order (the legacy builder's ` ---> <id>` lines). */
  intermediateIds: string[];
}

export interface DockerEngine {
  ping(): Promise<void>;
  createContainer(body: ContainerCreateBody): Promise<string>;
  /** The container's stderr (demultiplexed), from before start to exit. */
  attachStderr(id: string): Promise<Readable>;
  putArchive(id: string, path: string, tar: Readable): Promise<void>;
  startContainer(id: string): Promise<void>;
  /** Resolves with the exit status once the container is not running. */
  waitContainer(id: string): Promise<number>;
  /** Only called after a non-zero exit: was the step killed by the OOM killer? */
  wasOomKilled(id: string): Promise<boolean>;
  /** SIGKILL; a container that already stopped is not an error. */
  killContainer(id: string): Promise<void>;
  /** The tar of one path of a (stopped) container; null when the path does not exist. */
  getArchive(id: string, path: string): Promise<Readable | null>;
  /** Force-removes the container and its anonymous volumes; an absent container is not an error. */
  removeContainer(id: string): Promise<void>;
  /** Containers (any state) carrying all of these `key=value` labels. */
  listContainers(labels: string[]): Promise<LabelledResource[]>;
  listVolumes(labels: string[]): Promise<LabelledResource[]>;
  removeVolume(name: string): Promise<void>;
  inspectImage(ref: string): Promise<ImageInfo | null>;
  listImages(filters: { labels?: string[]; dangling?: boolean }): Promise<ImageInfo[]>;
  removeImage(id: string): Promise<void>;
  buildImage(context: Readable, options: ImageBuildOptions): Promise<ImageBuildOutcome>;
  /** Adds the tag `repository:tag` to an image (moving it from another image). */
  tagImage(image: string, repository: string, tag: string): Promise<void>;
  /** Pulls `name:tag` or `name@sha256:...`; throws EngineRequestError with the engine's reason. */
  pullImage(ref: string, options: RegistryTransferOptions): Promise<void>;
  /** Pushes `repository:tag`; resolves with the registry's manifest digest (sha256:...). */
  pushImage(repository: string, tag: string, options: RegistryTransferOptions): Promise<{ digest: string }>;
}
