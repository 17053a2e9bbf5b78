/**
 * The one module that talks to dockerode. It connects the way Docker's own tools do
 * (DOCKER_HOST, else the local socket), turns "cannot reach the engine" into one
 * ReplayError("DOCKER_UNAVAILABLE"), and other refusals into EngineRequestError.
 */
import { Readable, Transform, type TransformCallback } from "node:stream";
// Type only: dockerode (with docker-modem and ssh2) costs ~100-260 ms to load, so it is loaded
// when a command connects, not by every command that merely could talk to the engine.
import type Docker from "dockerode";
import { ReplayError, messageOf } from "../errors/index.js";
import type { ContainerCreateBody } from "./container-spec.js";
import {
  EngineRequestError,
  type DockerEngine,
  type ImageBuildOptions,
  type ImageBuildOutcome,
  type ImageInfo,
  type LabelledResource,
  type RegistryAuthConfig,
  type RegistryTransferOptions,
} from "./engine-port.js";

export const DOCKER_UNAVAILABLE_HINT = "start it: `dockerd &` or `bash scripts/setup-host.sh docker`";

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "EACCES",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

interface DockerodeError {
  code?: unknown;
  statusCode?: unknown;
  json?: unknown;
  message?: unknown;
}

export function isConnectionError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as DockerodeError;
  if (typeof e.code === "string" && CONNECTION_CODES.has(e.code)) return true;
  return typeof e.message === "string" && /socket hang up/i.test(e.message);
}

function engineMessage(error: unknown): string {
  const e = error as DockerodeError;
  if (
    typeof e.json === "object" &&
    e.json !== null &&
    typeof (e.json as { message?: unknown }).message === "string"
  ) {
    return (e.json as { message: string }).message;
  }
  return messageOf(error).replace(/^\(HTTP code \d+\)\s*/, "");
}

/** Every dockerode failure goes through here exactly once. */
function translate(error: unknown, where: string, dockerHost: string | undefined): Error {
  if (error instanceof ReplayError || error instanceof EngineRequestError) return error;
  if (isConnectionError(error)) {
    return new ReplayError(
      "DOCKER_UNAVAILABLE",
      `The Docker engine at ${dockerHost ?? "unix:///var/run/docker.sock"} does not answer (${where}: ${messageOf(error)}).`,
      { hint: DOCKER_UNAVAILABLE_HINT, cause: error },
    );
  }
  const status = (error as DockerodeError).statusCode;
  if (typeof status === "number")
    return new EngineRequestError(status, `${where}: ${engineMessage(error)}`, { cause: error });
  return new EngineRequestError(0, `${where}: ${messageOf(error)}`, { cause: error });
}

export interface DockerEngineOptions {
  /** DOCKER_HOST as Docker's tools read it; undefined: the environment's, else the local socket. */
  dockerHost?: string | undefined;
}

async function dockerodeFor(dockerHost: string | undefined): Promise<Docker> {
  const { default: Docker } = await import("dockerode");
  // docker-modem reads DOCKER_HOST (unix, tcp with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, ssh) like
  // the docker CLI does; only a host that differs from the environment's needs parsing here.
  if (dockerHost === undefined || dockerHost === process.env.DOCKER_HOST) return new Docker();
  if (dockerHost.startsWith("unix://")) return new Docker({ socketPath: dockerHost.slice("unix://".length) });
  const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
  return new Docker({
    host: url.hostname,
    port: url.port === "" ? 2375 : Number(url.port),
    protocol: "http",
  });
}

/** Splits the engine's multiplexed stream (8-byte frame headers) and passes only stderr on. */
export class StderrDemux extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const kind = this.pending[0];
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      if (kind === 2) this.push(this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
    done();
  }
}

const LOG_TAIL_LINES = 40;

/** Default for RegistryTransferOptions.idleTimeoutMs: a registry that sends nothing for 2 min. */
const TRANSFER_IDLE_MS = 120_000;

/** The Engine API wants credentials with no empty members; `{}` means none. */
function authHeaderConfig(auth: RegistryAuthConfig): Record<string, string> {
  return Object.fromEntries(
    Object.entries(auth).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""),
  );
}

interface ProgressEvent {
  error?: unknown;
  aux?: { Digest?: unknown };
}

/**
 * Reads a pull's or push's progress stream to its end. The engine answers 200 and reports a
 * failure as an `error` event, so that is where a refused push or a registry gone mid-layer
 * shows up; a stream that stays silent longer than `idleMs` is cut and reported as such.
 */
async function readProgress(stream: Readable, where: string, idleMs: number): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  let partial = "";
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stream.destroy(new EngineRequestError(0, `${where}: no progress for ${Math.round(idleMs / 1000)} s`));
    }, idleMs);
  };
  const take = (line: string) => {
    if (line.trim() === "") return;
    try {
      events.push(JSON.parse(line) as ProgressEvent);
    } catch {
      // Not an event: the engine only sends JSON lines.
    }
  };
  arm();
  try {
    for await (const chunk of stream) {
      arm();
      partial += (chunk as Buffer).toString("utf8");
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      parts.forEach(take);
    }
    take(partial);
  } finally {
    clearTimeout(timer);
  }
  const failed = events.find((e) => typeof e.error === "string");
  if (failed !== undefined) throw new EngineRequestError(500, `${where}: ${String(failed.error)}`);
  return events;
}

export function connectDockerEngine(options: DockerEngineOptions = {}): DockerEngine {
  const dockerHost = options.dockerHost ?? process.env.DOCKER_HOST;
  // Loading starts now, not at the first call: a command connects when it knows it will need the
  // engine, and the ~100 ms of loading then overlaps its registry work. An error waits for a call.
  const loading = dockerodeFor(options.dockerHost);
  loading.catch(() => undefined);
  const call = async <T>(where: string, work: (docker: Docker) => Promise<T>): Promise<T> => {
    try {
      return await work(await loading);
    } catch (error) {
      throw translate(error, where, dockerHost);
    }
  };
  const ignoring = async (
    statuses: number[],
    where: string,
    work: (docker: Docker) => Promise<unknown>,
  ): Promise<void> => {
    try {
      await call(where, work);
    } catch (error) {
      if (error instanceof EngineRequestError && statuses.includes(error.statusCode)) return;
      throw error;
    }
  };
  const labelsOf = (labels: Record<string, string> | null | undefined): Record<string, string> =>
    labels ?? {};
  // The engine sends null where the typings promise arrays (no volumes, an untagged image).
  const orEmpty = <T>(items: T[] | null | undefined): T[] => items ?? [];

  return {
    ping: () =>
      call("ping", async (docker) => {
        await docker.ping();
      }),

    createContainer: (body: ContainerCreateBody) =>
      call("create container", async (docker) => (await docker.createContainer(body)).id),

    attachStderr: (id) =>
      call("attach", async (docker) => {
        const raw = (await docker
          .getContainer(id)
          .attach({ stream: true, stdout: false, stderr: true })) as unknown as Readable;
        const demux = new StderrDemux();
        raw.on("error", (error) => demux.destroy(error));
        raw.pipe(demux);
        return demux;
      }),

    putArchive: (id, path, tar) =>
      call(`put archive ${path}`, async (docker) => {
        // When the engine drops the upload, the tar stream errors too; that error belongs to
        // this call (unlistened, it would crash the process).
        const tarFailed = new Promise<never>((_resolve, reject) => {
          tar.once("error", reject);
        });
        tarFailed.catch(() => undefined);
        try {
          await Promise.race([docker.getContainer(id).putArchive(tar, { path }), tarFailed]);
        } finally {
          tar.destroy();
        }
      }),

    startContainer: (id) =>
      call("start", async (docker) => {
        await docker.getContainer(id).start();
      }),

    waitContainer: (id) =>
      call("wait", async (docker) => {
        const answer = (await docker.getContainer(id).wait()) as { StatusCode?: unknown };
        return typeof answer.StatusCode === "number" ? answer.StatusCode : -1;
      }),

    wasOomKilled: (id) =>
      call("inspect", async (docker) => (await docker.getContainer(id).inspect()).State.OOMKilled),

    killContainer: (id) =>
      ignoring([404, 409], "kill", (docker) => docker.getContainer(id).kill({ signal: "SIGKILL" })),

    getArchive: async (id, path) => {
      try {
        return await call(`get archive ${path}`, async (docker) => {
          const stream = (await docker.getContainer(id).getArchive({ path })) as unknown as Readable;
          return stream;
        });
      } catch (error) {
        if (error instanceof EngineRequestError && error.statusCode === 404) return null;
        throw error;
      }
    },

    removeContainer: (id) =>
      ignoring([404], "remove container", (docker) =>
        docker.getContainer(id).remove({ v: true, force: true }),
      ),

    listContainers: (labels) =>
      call("list containers", async (docker) =>
        (await docker.listContainers({ all: true, filters: { label: labels } })).map(
          (c): LabelledResource => ({ id: c.Id, labels: labelsOf(c.Labels) }),
        ),
      ),

    listVolumes: (labels) =>
      call("list volumes", async (docker) =>
        orEmpty((await docker.listVolumes({ filters: { label: labels } })).Volumes).map(
          (v): LabelledResource => ({ id: v.Name, labels: labelsOf(v.Labels) }),
        ),
      ),

    removeVolume: (name) => ignoring([404], "remove volume", (docker) => docker.getVolume(name).remove()),

    inspectImage: async (ref) => {
      try {
        return await call(`inspect image ${ref}`, async (docker) => {
          const info = await docker.getImage(ref).inspect();
          return {
            id: info.Id,
            labels: labelsOf(info.Config.Labels),
            tags: orEmpty(info.RepoTags),
            repoDigests: orEmpty(info.RepoDigests),
          };
        });
      } catch (error) {
        if (error instanceof EngineRequestError && error.statusCode === 404) return null;
        throw error;
      }
    },

    listImages: (filters) =>
      call("list images", async (docker) => {
        const f: Record<string, string[]> = {};
        if (filters.labels !== undefined) f.label = filters.labels;
        if (filters.dangling !== undefined) f.dangling = [String(filters.dangling)];
        return (await docker.listImages({ filters: f })).map((i): ImageInfo => ({
          id: i.Id,
          labels: labelsOf(i.Labels),
          tags: orEmpty(i.RepoTags),
          repoDigests: orEmpty(i.RepoDigests),
        }));
      }),

    tagImage: (image, repository, tag) =>
      call(`tag ${image} as ${repository}:${tag}`, async (docker) => {
        await docker.getImage(image).tag({ repo: repository, tag });
      }),

    pullImage: (ref: string, options: RegistryTransferOptions) =>
      call(`pull ${ref}`, async (docker) => {
        const stream = (await docker.pull(ref, {
          authconfig: authHeaderConfig(options.auth),
          ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
        })) as unknown as Readable;
        await readProgress(stream, `pull ${ref}`, options.idleTimeoutMs ?? TRANSFER_IDLE_MS);
      }),

    pushImage: (repository: string, tag: string, options: RegistryTransferOptions) =>
      call(`push ${repository}:${tag}`, async (docker) => {
        const stream = (await docker.getImage(repository).push({
          tag,
          // Without the header the engine refuses the push, even for a registry with no auth.
          authconfig: authHeaderConfig(options.auth),
          ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
        })) as unknown as Readable;
        const events = await readProgress(
          stream,
          `push ${repository}:${tag}`,
          options.idleTimeoutMs ?? TRANSFER_IDLE_MS,
        );
        const digest = events.map((e) => e.aux?.Digest).find((d) => typeof d === "string");
        if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest))
          throw new EngineRequestError(0, `push ${repository}:${tag}: the engine reported no digest`);
        return { digest };
      }),

    removeImage: (id) => ignoring([404, 409], "remove image", (docker) => docker.getImage(id).remove()),

    buildImage: (context: Readable, options: ImageBuildOptions) =>
      call("build image", async (docker): Promise<ImageBuildOutcome> => {
        const stream = (await docker.buildImage(context, {
          t: options.tag,
          labels: options.labels,
          rm: true,
          forcerm: true,
          pull: false,
          ...(options.networkMode === undefined ? {} : { networkmode: options.networkMode }),
          ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
        })) as unknown as Readable;
        const lines: string[] = [];
        const intermediateIds: string[] = [];
        let imageId: string | undefined;
        let error: string | undefined;
        let partial = "";
        const take = (line: string): void => {
          if (line.trim() === "") return;
          let event: { stream?: unknown; error?: unknown; aux?: { ID?: unknown } };
          try {
            event = JSON.parse(line) as typeof event;
          } catch {
            return;
          }
          if (typeof event.stream === "string") {
            const text = event.stream;
            lines.push(...text.split("\n").filter((l) => l !== ""));
            for (const m of text.matchAll(/^ ---> ([0-9a-f]{12,64})$/gm))
              if (m[1] !== undefined) intermediateIds.push(m[1]);
          }
          if (typeof event.error === "string") {
            error = event.error;
            lines.push(event.error);
          }
          if (typeof event.aux?.ID === "string") imageId = event.aux.ID;
          if (lines.length > LOG_TAIL_LINES * 2) lines.splice(0, lines.length - LOG_TAIL_LINES);
        };
        for await (const chunk of stream) {
          partial += (chunk as Buffer).toString("utf8");
          const parts = partial.split("\n");
          partial = parts.pop() ?? "";
          parts.forEach(take);
        }
        take(partial);
        return {
          imageId: error === undefined ? imageId : undefined,
          error,
          logTail: lines.slice(-LOG_TAIL_LINES).join("\n"),
          intermediateIds,
        };
      }),
  };
}
