/**
 * The image a step runs in. `none` environments (and unpinned steps) run in the base image;
 * `pip` environments in replay-env:<hex>, reused while its labels match the environment. With a
 * shared registry (image-registry.ts) an image missing here is pulled before it is built, and
 * what is built is pushed; the pull policy says when the registry is asked. A registry that is
 * down or serves an untrusted image is a warning, never a failed step: the image is built.
 * Concurrent resolves of one environment share one pull or build.
 */
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { acquirePidLock, type PidLock } from "../locks/index.js";
import type { Environment } from "../chain/types.js";
import { ReplayError, messageOf } from "../errors/index.js";
import { sha256Hex } from "../hashing/index.js";
import type { DockerEngine, ImageInfo } from "../runner/index.js";
import { ensureBaseImage, type BaseImageBuildOptions } from "./base-image.js";
import { envBuildContext } from "./build-context.js";
import { ENV_LABEL, envImageTag } from "./env-image-labels.js";
import { envImageProblem } from "./env-image-trust.js";
import { envDockerfile, type WheelSource } from "./env-dockerfile.js";
import { checkImageReference, quotedReference } from "./image-reference.js";
import type { ImageRegistry, SharedImageSpec } from "./image-registry.js";
import { visibleText } from "../terminal/index.js";
import type { PullPolicy } from "./pull-policy.js";
import { BASE_REPOSITORY, ENV_REPOSITORY, baseImageSpec, envImageSpec } from "./shared-image-specs.js";
import { SingleFlight } from "./single-flight.js";
import { BASE_IMAGE, type ImageResolver, type ImageSource, type ResolvedImage } from "./types.js";
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
  /** REPLAY_IMAGE_REGISTRY: where images are pulled from and pushed to. */
  registry?: ImageRegistry | undefined;
  /** --pull (default missing). */
  pull?: PullPolicy | undefined;
}

type Found = Omit<ResolvedImage, "seconds">;

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
  private readonly registry: ImageRegistry | undefined;
  private readonly policy: PullPolicy;

  constructor(options: DockerImageResolverOptions) {
    this.engine = options.engine;
    this.options = options;
    this.log = options.log ?? (() => undefined);
    this.registry = options.registry;
    this.policy = options.pull ?? "missing";
  }

  async resolve(environment: Environment | null, signal?: AbortSignal): Promise<ResolvedImage> {
    const started = performance.now();
    const found = await this.find(environment, signal);
    return { ...found, seconds: (performance.now() - started) / 1000 };
  }

  private find(environment: Environment | null, signal: AbortSignal | undefined): Promise<Found> {
    if (environment === null) return this.base(BASE_IMAGE, signal);
    switch (environment.lockfileKind) {
      case "none":
        return this.base(environment.baseImage, signal);
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

  private local(ref: string, info: ImageInfo, name: string, warnings: string[]): Found {
    const digest = this.registry?.localDigest(info, name) ?? null;
    return { ref, imageId: info.id, digest, source: "local", warnings };
  }

  /**
   * Asks the registry for an image unless the policy forbids it; a refusal or an outage becomes
   * a warning (`instead` says what happens then), absence only a log line.
   */
  private async tryPull(
    spec: SharedImageSpec,
    instead: string,
    warnings: string[],
    signal: AbortSignal | undefined,
  ): Promise<{ imageId: string; digest: string } | null> {
    if (this.registry === undefined || this.policy === "never") return null;
    const outcome = await this.registry.pull(spec, signal);
    if (outcome.kind === "pulled") {
      this.log(`pulled ${spec.local.repository}:${spec.local.tag} (${spec.what}) from ${outcome.reference}`);
      return outcome;
    }
    if (outcome.kind === "absent") {
      this.log(`${outcome.why}: ${instead}`);
      return null;
    }
    const warning = visibleText(`${outcome.why}; ${instead}`);
    warnings.push(warning);
    this.log(`warning: ${warning}`);
    return null;
  }

  /** Pushes what was built; a failure is a warning: the image is here, the replay goes on. */
  private async tryPush(
    imageId: string,
    spec: SharedImageSpec,
    warnings: string[],
    signal: AbortSignal | undefined,
  ): Promise<string | null> {
    if (this.registry === undefined) return null;
    try {
      const digest = await this.registry.push(imageId, spec, signal);
      this.log(
        `pushed ${spec.local.repository}:${spec.local.tag} to ${this.registry.repository(spec.name)}@${digest}`,
      );
      return digest;
    } catch (error) {
      if (signal?.aborted === true || !(error instanceof ReplayError && error.code === "IMAGE_REGISTRY"))
        throw error;
      const warning = visibleText(
        `${messageOf(error).replace(/\.$/, "")}; the image stays on this runner only`,
      );
      warnings.push(warning);
      this.log(`warning: ${warning}`);
      return null;
    }
  }

  /** The base image of an environment: ours is pulled or built when missing, any other must exist already. */
  private base(ref: string, signal: AbortSignal | undefined): Promise<Found> {
    return this.flights.run(`base:${ref}`, async () => {
      requireImageReference(ref, "base image");
      const warnings: string[] = [];
      const existing = await this.engine.inspectImage(ref);
      if (ref !== BASE_IMAGE) {
        if (existing === null) {
          throw new ReplayError(
            "IMAGE_BUILD",
            `The base image ${ref} is not in the Docker engine, and replay-runner does not pull it (only ${BASE_IMAGE} is shared through REPLAY_IMAGE_REGISTRY).`,
            {
              hint: `Load it first (docker load / docker pull / docker build -t ${ref} ...), or replay with ${BASE_IMAGE}.`,
            },
          );
        }
        return { ref, imageId: existing.id, digest: null, source: "local", warnings };
      }
      if (existing !== null && this.policy !== "always")
        return this.local(ref, existing, BASE_REPOSITORY, warnings);
      const spec = baseImageSpec();
      const pulled = await this.tryPull(
        spec,
        existing === null ? "building it here" : "using the local one",
        warnings,
        signal,
      );
      if (pulled !== null)
        return { ref, imageId: pulled.imageId, digest: pulled.digest, source: "pulled", warnings };
      if (existing !== null) return this.local(ref, existing, BASE_REPOSITORY, warnings);
      const info = await ensureBaseImage(this.engine, { log: this.log, ...this.options.baseImage });
      const digest = info.built ? await this.tryPush(info.id, spec, warnings, signal) : null;
      const source: ImageSource = info.built ? "built" : "local";
      return { ref, imageId: info.id, digest, source, warnings };
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
    const warnings: string[] = [];
    const existing = await this.engine.inspectImage(tag);
    const valid = existing !== null && envImageProblem(existing.labels, environment) === null;
    if (valid && this.policy !== "always") return this.local(tag, existing, ENV_REPOSITORY, warnings);
    const spec = envImageSpec(environment);
    const pulled = await this.tryPull(
      spec,
      valid ? "using the local image" : "building it here",
      warnings,
      signal,
    );
    if (pulled !== null) {
      // The tag moved to the pulled image: the one that held it would now dangle (an image still
      // tagged otherwise, or used by a container, is refused by the engine and stays).
      if (existing !== null && existing.id !== pulled.imageId) await this.removeQuietly(existing.id);
      return { ref: tag, imageId: pulled.imageId, digest: pulled.digest, source: "pulled", warnings };
    }
    if (valid) return this.local(tag, existing, ENV_REPOSITORY, warnings);
    const built = await this.build(environment, existing, signal);
    const digest = await this.tryPush(built.id, spec, warnings, signal);
    // The base goes along (its layers are there already): a runner without it can pull it.
    if (digest !== null && environment.baseImage === BASE_IMAGE && built.baseId !== undefined)
      await this.tryPush(built.baseId, baseImageSpec(), warnings, signal);
    return { ref: tag, imageId: built.id, digest, source: "built", warnings };
  }

  private async build(
    environment: Environment,
    existing: ImageInfo | null,
    signal: AbortSignal | undefined,
  ): Promise<{ id: string; baseId: string | undefined }> {
    const tag = envImageTag(environment.envHash);
    const lockSha256 = sha256Hex(environment.requirementsLock);
    const base = await this.base(environment.baseImage, signal);
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
          [ENV_LABEL.baseRef]: environment.baseImage,
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
    return { id: built.id, baseId: base.ref === BASE_IMAGE ? base.imageId : undefined };
  }

  private async removeQuietly(id: string | undefined): Promise<void> {
    if (id === undefined) return;
    await this.engine.removeImage(id).catch(() => undefined);
  }
}
