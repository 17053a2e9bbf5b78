/**
 * The few calls of the registry's HTTP API (distribution spec v2) that the Engine API has no
 * answer for: a manifest and its config's labels *before* pulling (so an image that claims
 * another environment is refused without downloading its layers), and a repository's tags.
 *
 * HTTPS first; plain HTTP only for a loopback registry or one explicitly allowed (Docker's own
 * rule for insecure registries). Every answer is bounded in size and time, and every digest is
 * computed from the bytes received, never taken from a header.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { ReplayError, messageOf } from "../errors/index.js";
import type { RegistryAuthConfig } from "../runner/index.js";
import type { RegistryAddress } from "./registry-address.js";

const MAX_JSON_BYTES = 4 << 20;
const REQUEST_TIMEOUT_MS = 30_000;

const MANIFEST_TYPES = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
];
const INDEX_TYPES = [
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.index.v1+json",
];

const DIGEST = /^sha256:[0-9a-f]{64}$/;

const manifestSchema = z.object({
  mediaType: z.string().optional(),
  config: z.object({ digest: z.string().regex(DIGEST) }).loose(),
});
const indexSchema = z.object({
  manifests: z.array(
    z
      .object({
        digest: z.string().regex(DIGEST),
        platform: z.object({ os: z.string(), architecture: z.string() }).loose().optional(),
      })
      .loose(),
  ),
});
const configSchema = z.object({
  config: z
    .object({ Labels: z.record(z.string(), z.string()).nullable().optional() })
    .loose()
    .optional(),
});
const tagsSchema = z.object({ tags: z.array(z.string()).nullable() });

export interface RemoteManifest {
  /** sha256 of the image manifest's bytes: what `name@digest` pulls. */
  digest: string;
  /** The config blob's digest, which is the image id an engine gives the pulled image. */
  configDigest: string;
}

export interface RegistryHttpOptions {
  address: RegistryAddress;
  credentials: () => Promise<RegistryAuthConfig>;
  /** REPLAY_IMAGE_REGISTRY_INSECURE: plain HTTP allowed beyond loopback. */
  insecure: boolean;
}

function sha256Of(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function goArch(): string {
  return (
    (
      { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>
    )[process.arch] ?? process.arch
  );
}

async function readBounded(response: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > max)
    throw new ReplayError(
      "IMAGE_REGISTRY",
      `${what}: the registry's answer (${declared} bytes) is over ${max} bytes.`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body === null) return Buffer.alloc(0);
  for await (const chunk of response.body) {
    size += (chunk as Uint8Array).length;
    if (size > max) {
      await response.body.cancel().catch(() => undefined);
      throw new ReplayError("IMAGE_REGISTRY", `${what}: the registry's answer is over ${max} bytes.`);
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** `Bearer realm="...",service="...",scope="..."` → its parameters. */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(" ");
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([a-zA-Z_]+)="([^"]*)"/g))
    if (m[1] !== undefined && m[2] !== undefined) params[m[1].toLowerCase()] = m[2];
  return { scheme, params };
}

export class RegistryHttp {
  private readonly options: RegistryHttpOptions;
  private base: Promise<string> | undefined;
  private authorization: string | undefined;

  constructor(options: RegistryHttpOptions) {
    this.options = options;
  }

  get address(): RegistryAddress {
    return this.options.address;
  }

  /** The image manifest a reference (tag or digest) names, for this platform; null when absent. */
  async manifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<RemoteManifest | null> {
    const accept = [...MANIFEST_TYPES, ...INDEX_TYPES].join(", ");
    const answer = await this.getJson(`/v2/${repository}/manifests/${reference}`, accept, signal);
    if (answer === null) return null;
    const { bytes, json } = answer;
    const digest = sha256Of(bytes);
    if (DIGEST.test(reference) && digest !== reference) {
      throw new ReplayError(
        "IMAGE_REGISTRY",
        `The registry answered ${repository}@${reference} with a manifest whose bytes hash to ${digest}.`,
      );
    }
    const index = indexSchema.safeParse(json);
    const mediaType = (json as { mediaType?: unknown }).mediaType;
    if (index.success && (typeof mediaType !== "string" || INDEX_TYPES.includes(mediaType))) {
      const arch = goArch();
      const entry = index.data.manifests.find(
        (m) => m.platform?.os === "linux" && m.platform.architecture === arch,
      );
      if (entry === undefined) {
        throw new ReplayError("IMAGE_REGISTRY", `${repository}:${reference} has no image for linux/${arch}.`);
      }
      return this.manifest(repository, entry.digest, signal);
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) {
      throw new ReplayError(
        "IMAGE_REGISTRY",
        `${repository}:${reference} is not an image manifest replay-runner can read.`,
      );
    }
    return { digest, configDigest: parsed.data.config.digest };
  }

  /** The labels of an image's config blob, checked against its digest. */
  async configLabels(
    repository: string,
    configDigest: string,
    signal?: AbortSignal,
  ): Promise<Record<string, string>> {
    const answer = await this.getJson(
      `/v2/${repository}/blobs/${configDigest}`,
      "application/json, */*",
      signal,
    );
    if (answer === null)
      throw new ReplayError(
        "IMAGE_REGISTRY",
        `The registry has no config blob ${configDigest} for ${repository}.`,
      );
    if (sha256Of(answer.bytes) !== configDigest) {
      throw new ReplayError(
        "IMAGE_REGISTRY",
        `The registry's config blob ${configDigest} of ${repository} does not hash to its digest.`,
      );
    }
    const parsed = configSchema.safeParse(answer.json);
    if (!parsed.success)
      throw new ReplayError(
        "IMAGE_REGISTRY",
        `The config blob ${configDigest} of ${repository} is not an image config.`,
      );
    return parsed.data.config?.Labels ?? {};
  }

  /** A repository's tags (empty when it does not exist). */
  async tags(repository: string, signal?: AbortSignal): Promise<string[]> {
    const answer = await this.getJson(`/v2/${repository}/tags/list?n=10000`, "application/json", signal);
    if (answer === null) return [];
    const parsed = tagsSchema.safeParse(answer.json);
    if (!parsed.success)
      throw new ReplayError("IMAGE_REGISTRY", `The registry's tag list of ${repository} is malformed.`);
    return (parsed.data.tags ?? []).slice().sort();
  }

  private async getJson(
    path: string,
    accept: string,
    signal: AbortSignal | undefined,
  ): Promise<{ bytes: Buffer; json: unknown } | null> {
    const base = await this.baseUrl(signal);
    let response = await this.fetch(`${base}${path}`, accept, signal);
    if (response.status === 401) {
      await response.body?.cancel().catch(() => undefined);
      await this.authenticate(response.headers.get("www-authenticate") ?? "", signal);
      response = await this.fetch(`${base}${path}`, accept, signal);
    }
    const where = `${this.options.address.host}${path.replace(/\?.*$/, "")}`;
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new ReplayError(
        "IMAGE_REGISTRY",
        `The image registry refused GET ${where}: HTTP ${response.status}.`,
        {
          hint:
            response.status === 401 || response.status === 403
              ? "Log in with `docker login` (replay-runner reads Docker's config.json)."
              : undefined,
          details: { status: response.status },
        },
      );
    }
    const bytes = await readBounded(response, MAX_JSON_BYTES, `GET ${where}`);
    try {
      return { bytes, json: JSON.parse(bytes.toString("utf8")) as unknown };
    } catch (error) {
      throw new ReplayError("IMAGE_REGISTRY", `GET ${where}: the registry's answer is not JSON.`, {
        cause: error,
      });
    }
  }

  private async fetch(url: string, accept: string, signal: AbortSignal | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    try {
      return await fetch(url, {
        headers,
        redirect: "follow",
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      signal?.throwIfAborted();
      throw unreachable(this.options.address, error);
    }
  }

  /** Docker's order: HTTPS; HTTP only where insecure registries are allowed. */
  private baseUrl(signal: AbortSignal | undefined): Promise<string> {
    this.base ??= (async () => {
      const { address, insecure } = this.options;
      const https = `https://${address.host}`;
      try {
        const probe = await this.fetch(`${https}/v2/`, "application/json", signal);
        await probe.body?.cancel().catch(() => undefined);
        return https;
      } catch (error) {
        if (!address.loopback && !insecure) {
          throw new ReplayError(
            "IMAGE_REGISTRY",
            `The image registry ${address.host} does not answer over HTTPS (${messageOf(error)}).`,
            {
              hint: "Plain HTTP is used only for a registry on loopback, or with REPLAY_IMAGE_REGISTRY_INSECURE=1 (the Docker engine then also needs it in its insecure-registries).",
              cause: error,
            },
          );
        }
      }
      const http = `http://${address.host}`;
      const probe = await this.fetch(`${http}/v2/`, "application/json", signal);
      await probe.body?.cancel().catch(() => undefined);
      return http;
    })();
    const base = this.base;
    base.catch(() => {
      // Not answering now says nothing of later: the next call probes again.
      if (this.base === base) this.base = undefined;
    });
    return base;
  }

  private async authenticate(header: string, signal: AbortSignal | undefined): Promise<void> {
    const auth = await this.options.credentials();
    const { scheme, params } = parseChallenge(header);
    const basic =
      auth.username !== undefined && auth.password !== undefined
        ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`
        : undefined;
    if (scheme === "basic") {
      if (basic === undefined) throw needsLogin(this.options.address);
      this.authorization = basic;
      return;
    }
    if (scheme !== "bearer" || params.realm === undefined) throw needsLogin(this.options.address);
    if (auth.registrytoken !== undefined) {
      this.authorization = `Bearer ${auth.registrytoken}`;
      return;
    }
    const url = new URL(params.realm);
    if (params.service !== undefined) url.searchParams.set("service", params.service);
    if (params.scope !== undefined) url.searchParams.set("scope", params.scope);
    const headers: Record<string, string> = { accept: "application/json" };
    if (basic !== undefined) headers.authorization = basic;
    let response: Response;
    try {
      response = await fetch(url, {
        headers,
        signal: AbortSignal.any([
          AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          ...(signal === undefined ? [] : [signal]),
        ]),
      });
    } catch (error) {
      throw unreachable(this.options.address, error);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw needsLogin(this.options.address);
    }
    const body = await readBounded(response, 1 << 20, "token");
    const token = z
      .object({ token: z.string().optional(), access_token: z.string().optional() })
      .safeParse(JSON.parse(body.toString("utf8")) as unknown);
    const value = token.success ? (token.data.token ?? token.data.access_token) : undefined;
    if (value === undefined) throw needsLogin(this.options.address);
    this.authorization = `Bearer ${value}`;
  }
}

function needsLogin(address: RegistryAddress): ReplayError {
  return new ReplayError(
    "IMAGE_REGISTRY",
    `The image registry ${address.host} wants credentials that Docker's config.json does not give.`,
    {
      hint: `Run \`docker login ${address.host}\` as this user (or set DOCKER_CONFIG to a folder whose config.json has them).`,
    },
  );
}

function unreachable(address: RegistryAddress, error: unknown): ReplayError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const why =
    typeof cause?.code === "string"
      ? cause.code
      : typeof cause?.message === "string"
        ? cause.message
        : messageOf(error);
  return new ReplayError("IMAGE_REGISTRY", `The image registry ${address.host} does not answer (${why}).`, {
    cause: error,
  });
}
