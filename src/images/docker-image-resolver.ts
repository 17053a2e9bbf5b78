/**
 * The image a step runs in. `none` environments (and unpinned steps) run in the base image;
 * `pip` environments in replay-env:<hex>, built once through the Engine API and reused while
 * its labels match. Concurrent resolves of one environment share one build.
 */
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { acquirePidLock, type PidLock } from "../locks/index.js";
import type { Environment } from "../chain/types.js";
import { ReplayError } from "../errors/index.js";
import { sha256Hex } from "../hashing/index.js";
import type { DockerEngine } from "../runner/index.js";
import { ensureBaseImage, type BaseImageBuildOptions } from "./base-image.js";
import { envBuildContext } from "./build-context.js";
import { ENV_LABEL, envImageTag, parseEnvImageLabels } from "./env-image-labels.js";
import { envDockerfile, type WheelSource } from "./env-dockerfile.js";
import { checkImageReference, quotedReference } from "./image-reference.js";
import { SingleFlight } from "./single-flight.js";
import { BASE_IMAGE, type ImageResolver, type ResolvedImage } from "./types.js";
import { wheelsForLock } from "./wheelhouse.js";

export interface DockerImageResolverOptions {
  engine: DockerEngine;
  /** REPLAY_WHEELHOUSE: a folder of .whl files; builds then run without network. */
  wheelhouse?: string | undefined;
  /** REPLAY_PIP_INDEX_URL: a package index, when there is no wheelhouse. */
  pipIndexUrl?: string | undefined;
  /** Progress for the user (stderr): building the base image or an environment. */
  log?: ((line: string) => void) | undefined;
  baseImage?: Partial<BaseImageBuildOptions> | undefined;
}

interface Found {
  ref: string;
  imageId: string;
  built: boolean;
}

const WHEEL_HINT =
  "Set REPLAY_WHEELHOUSE to a folder holding the pinned .whl files, or REPLAY_PIP_INDEX_URL to an index.";

/** Nothing reaches the engine as an image name unless it is one (image-reference.ts says why). */
function requireImageReference(ref: string, what: string): void {
  const check = checkImageReference(ref);
  if (check.ok) return;
  throw new ReplayError(
    "REGISTRY_DATA",
    `The ${what} ${quotedReference(ref)} is not an image reference: ${check.problem}; nothing was sent to the Docker engine.`,
    { details: { image: ref, problem: check.problem } },
  );
}

/** Another live process is building this image: wait for it. */
class BuildLockHeld extends Error {}

export class DockerImageResolver implements ImageResolver {
  private readonly engine: DockerEngine;
  private readonly options: DockerImageResolverOptions;
  private readonly flights = new SingleFlight<Found>();
  private readonly log: (line: string) => void;

  constructor(options: DockerImageResolverOptions) {
    this.engine = options.engine;
    this.options = options;
    this.log = options.log ?? (() => undefined);
  }

  async resolve(environment: Environment | null, signal?: AbortSignal): Promise<ResolvedImage> {
    const started = performance.now();
    const found = await this.find(environment, signal);
    return { ...found, seconds: (performance.now() - started) / 1000 };
  }

  private find(environment: Environment | null, signal: AbortSignal | undefined): Promise<Found> {
    if (environment === null) return this.base(BASE_IMAGE);
    switch (environment.lockfileKind) {
      case "none":
        return this.base(environment.baseImage);
      case "pip":
        return this.flights.run(`env:${environment.envHash}`, () => this.envImage(environment, signal));
      default:
        return Promise.reject(
          new ReplayError(
            "IMAGE_BUILD",
            `Environment ${environment.envHash} has lockfile_kind "${environment.lockfileKind}"; only "none" and "pip" can be built.`,
          ),
        );
    }
  }

  /** The base image of an environment: ours is built when missing, any other must exist already. */
  private base(ref: string): Promise<Found> {
    return this.flights.run(`base:${ref}`, async () => {
      requireImageReference(ref, "base image");
      if (ref === BASE_IMAGE) {
        const info = await ensureBaseImage(this.engine, { log: this.log, ...this.options.baseImage });
        return { ref, imageId: info.id, built: info.built };
      }
      const info = await this.engine.inspectImage(ref);
      if (info === null) {
        throw new ReplayError(
          "IMAGE_BUILD",
          `The base image ${ref} is not in the Docker engine, and it cannot be pulled here (no registry is reachable).`,
          { hint: `Load it first (docker load / docker build -t ${ref} ...), or replay with ${BASE_IMAGE}.` },
        );
      }
      return { ref, imageId: info.id, built: false };
    });
  }

  private wheelSource(wheels: number): WheelSource {
    if (this.options.wheelhouse !== undefined) return { kind: "wheelhouse", wheels };
    if (this.options.pipIndexUrl !== undefined) return { kind: "index", url: this.options.pipIndexUrl };
    return { kind: "default" };
  }

  /**
   * SingleFlight shares a build within one process; two replay processes needing the same new
   * environment would both build it, and the loser's tag move would leave the winner's image
   * dangling (test/faults/concurrent-replays.test.ts). A lock file per tag on this host makes
   * the second process wait and then find the first one's image by its labels.
   */
  private async envImage(environment: Environment, signal: AbortSignal | undefined): Promise<Found> {
    const tag = envImageTag(environment.envHash);
    const lock = await this.buildLock(tag, signal);
    try {
      return await this.envImageLocked(environment, signal);
    } finally {
      await lock.release();
    }
  }

  private async buildLock(tag: string, signal: AbortSignal | undefined): Promise<PidLock> {
    const file = path.join(os.tmpdir(), `replay-runner-build-${sha256Hex(tag).slice(0, 24)}.lock`);
    for (;;) {
      try {
        return await acquirePidLock(file, tag, () => new BuildLockHeld());
      } catch (error) {
        if (!(error instanceof BuildLockHeld)) throw error;
      }
      signal?.throwIfAborted();
      await sleep(250);
    }
  }

  private async envImageLocked(environment: Environment, signal: AbortSignal | undefined): Promise<Found> {
    const tag = envImageTag(environment.envHash);
    requireImageReference(tag, "environment image tag");
    const lockSha256 = sha256Hex(environment.requirementsLock);
    const existing = await this.engine.inspectImage(tag);
    const labels = existing === null ? null : parseEnvImageLabels(existing.labels);
    if (existing !== null && labels?.envHash === environment.envHash && labels.lockSha256 === lockSha256) {
      return { ref: tag, imageId: existing.id, built: false };
    }
    const base = await this.base(environment.baseImage);
    const wheels =
      this.options.wheelhouse === undefined
        ? []
        : await wheelsForLock(this.options.wheelhouse, environment.requirementsLock);
    const source = this.wheelSource(wheels.length);
    this.log(
      `building ${tag} for environment ${environment.envHash} (${wheels.length} wheel(s), from ${source.kind})...`,
    );
    const outcome = await this.engine.buildImage(
      await envBuildContext(envDockerfile(base.ref, source), environment.requirementsLock, wheels),
      {
        tag,
        labels: {
          [ENV_LABEL.envHash]: environment.envHash,
          [ENV_LABEL.lockSha256]: lockSha256,
          [ENV_LABEL.baseImage]: base.imageId,
        },
        // A wheelhouse needs no network: the build is as sealed as the steps.
        networkMode: source.kind === "wheelhouse" ? "none" : undefined,
        signal,
      },
    );
    if (outcome.imageId === undefined) {
      // The steps that did succeed left untagged images behind: remove them, nothing dangles.
      await this.removeQuietly(outcome.intermediateIds.at(-1));
      throw new ReplayError(
        "IMAGE_BUILD",
        `Building ${tag} for environment ${environment.envHash} failed: ${outcome.error ?? "no image id"}\n--- build log (tail) ---\n${outcome.logTail}`,
        {
          hint:
            source.kind === "wheelhouse" ? WHEEL_HINT : `Check the lock and the package index. ${WHEEL_HINT}`,
          details: { tag },
        },
      );
    }
    const built = await this.engine.inspectImage(tag);
    if (built === null)
      throw new ReplayError("IMAGE_BUILD", `The build of ${tag} finished but the tag is missing.`);
    // A stale image that held this tag (other labels) would now dangle.
    if (existing !== null && existing.id !== built.id) await this.removeQuietly(existing.id);
    this.log(`built ${tag} (${built.id}).`);
    return { ref: tag, imageId: built.id, built: true };
  }

  private async removeQuietly(id: string | undefined): Promise<void> {
    if (id === undefined) return;
    await this.engine.removeImage(id).catch(() => undefined);
  }
}
