/**
 * The trust rules of shared environment images, against a real OCI registry (Debian's
 * docker-registry on 127.0.0.1) and this machine's engine: an image whose tag is right but whose
 * labels are another environment's is refused and the environment built; a pinned digest wins
 * over a moved tag; --pull always prefers the registry; a registry that stops mid-replay only
 * costs a build; plain HTTP only on loopback or when allowed; credentials as Docker reads them.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envHashOf } from "../../src/hashing/index.js";
import {
  BASE_IMAGE,
  DockerImageResolver,
  ImageRegistry,
  MemoryImageCache,
  RegistryHttp,
  envImageTag,
  envRemoteTag,
  parseRegistryAddress,
  registryCredentials,
} from "../../src/images/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { engine } from "../runner/step-fixture.js";
import { startOciRegistry, type TestOciRegistry } from "../support/oci-registry.js";
import { CLI, cliEnv, ownStderr, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { buildTestWheel } from "../support/test-wheel.js";
import { imageIdOf, recordSharedChain, removeRefs, rowOf } from "./shared-chain.js";

/** Builds, pushes of the base image (~190 MB) and pulls, on a machine shared with other suites. */
const SLOW_MS = 300_000;
const nonce = randomBytes(5).toString("hex");
let oci: TestOciRegistry;
let wheelhouse: string;
let dockerConfig: string;
/** Every name this file gives an image on this engine, removed at the end. */
const refs: string[] = [];

function pipEnvironment(lock: string) {
  const columns = { baseImage: BASE_IMAGE, lockfileKind: "pip", requirementsLock: lock };
  return { ...columns, envHash: envHashOf(columns) };
}

function docker(args: string[], input?: string): string {
  return execFileSync("docker", args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] }).trim();
}

/** Pushes with the docker CLI (what another, careless or hostile, pusher would do); the digest. */
function dockerPush(ref: string): string {
  const out = docker(["push", ref]);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
  if (digest === undefined) throw new Error(`no digest in: ${out}`);
  return digest;
}

/** An image with the same labels as `from` but other bytes: a second, different "valid" push. */
function variantOf(from: string, tag: string): string {
  docker(
    ["build", "-q", "-t", tag, "-"],
    `FROM ${from}\nLABEL org.example.variant=${randomBytes(4).toString("hex")}\n`,
  );
  refs.push(tag);
  return imageIdOf(tag) ?? "";
}

/** Every name and digest reference this engine has for images of a test registry. */
function removeNamesUnder(host: string): void {
  const filter = ["--filter", `reference=${host}/*/*`];
  const named = docker(["images", "--format", "{{.Repository}}:{{.Tag}}", ...filter]);
  removeRefs(named.split("\n").filter((l) => l !== "" && !l.endsWith(":<none>")));
  const digests = docker(["images", "--digests", "--format", "{{.Repository}}@{{.Digest}}", ...filter]);
  removeRefs(digests.split("\n").filter((l) => l !== "" && !l.endsWith("@<none>")));
}

function registryFor(prefix: string, cache = new MemoryImageCache()): ImageRegistry {
  return new ImageRegistry({
    engine,
    address: parseRegistryAddress(oci.address(prefix)),
    cache,
    credentials: () => Promise.resolve({}),
  });
}

async function wheelEnv(name: string) {
  const wheel = await buildTestWheel(wheelhouse, `${name}_${nonce}`, "1.0", `VALUE = "${name}"\n`);
  const env = pipEnvironment(wheel.lockLine);
  refs.push(envImageTag(env.envHash));
  return env;
}

beforeAll(async () => {
  oci = await startOciRegistry();
  wheelhouse = await mkdtemp(path.join(os.tmpdir(), "rr-wheels-"));
  dockerConfig = await mkdtemp(path.join(os.tmpdir(), "rr-docker-config-"));
});

afterAll(async () => {
  removeRefs(refs);
  // Names of this engine's images in the test registry (the base image keeps replay-base:bookworm).
  removeNamesUnder(oci.host);
  await oci.dispose();
  await rm(wheelhouse, { recursive: true, force: true });
  await rm(dockerConfig, { recursive: true, force: true });
});

describe("pulling environment images from a shared registry", { timeout: SLOW_MS }, () => {
  it("refuses an image under the right tag whose labels are another environment's, names both, and builds instead", async () => {
    const prefix = `mismatch-${nonce}`;
    const [x, y] = [await wheelEnv("envx"), await wheelEnv("envy")];
    const built = await new DockerImageResolver({ engine, wheelhouse }).resolve(x);
    // Somebody pushed environment x's image under y's tag.
    const wrong = `${oci.host}/${prefix}/replay-env:${envRemoteTag(y.envHash)}`;
    docker(["tag", built.imageId, wrong]);
    refs.push(wrong);
    const wrongDigest = dockerPush(wrong);

    const logs: string[] = [];
    const resolver = new DockerImageResolver({
      engine,
      wheelhouse,
      registry: registryFor(prefix),
      log: (l) => logs.push(l),
    });
    const image = await resolver.resolve(y);
    expect(image.source).toBe("built");
    expect(image.imageId).not.toBe(built.imageId);
    expect(image.warnings).toEqual([
      `refused the registry's image ${wrong} (${wrongDigest}): its labels claim environment ${x.envHash}, not ${y.envHash}; building it here`,
    ]);
    expect(logs).toContain(`warning: ${image.warnings[0]}`);
    // What was built is pushed: the tag now holds y's own image, and the digest is recorded.
    const http = new RegistryHttp({
      address: parseRegistryAddress(oci.address(prefix)),
      credentials: () => Promise.resolve({}),
      insecure: false,
    });
    const now = await http.manifest(`${prefix}/replay-env`, envRemoteTag(y.envHash));
    expect(now).toEqual({ digest: image.digest, configDigest: image.imageId });
  });

  it("pulls a pinned digest, not whatever the tag was moved to", async () => {
    const prefix = `pinned-${nonce}`;
    const z = await wheelEnv("envz");
    const cache = new MemoryImageCache();
    const first = await new DockerImageResolver({
      engine,
      wheelhouse,
      registry: registryFor(prefix, cache),
    }).resolve(z);
    expect(first.source).toBe("built");
    // Another valid image of the same environment is pushed under the tag.
    const remote = `${oci.host}/${prefix}/replay-env:${envRemoteTag(z.envHash)}`;
    const movedId = variantOf(first.imageId, remote);
    const movedDigest = dockerPush(remote);
    expect(movedDigest).not.toBe(first.digest);

    removeRefs([envImageTag(z.envHash)]);
    const pinned = await new DockerImageResolver({ engine, registry: registryFor(prefix, cache) }).resolve(z);
    expect(pinned).toMatchObject({ source: "pulled", digest: first.digest, imageId: first.imageId });

    // Without the pin (another registry database), the tag is what there is to go by.
    removeRefs([envImageTag(z.envHash)]);
    const unpinned = await new DockerImageResolver({ engine, registry: registryFor(prefix) }).resolve(z);
    expect(unpinned).toMatchObject({ source: "pulled", digest: movedDigest, imageId: movedId });
  });

  it("speaks plain HTTP to a registry beyond loopback only when it is allowed", async () => {
    const address = { ...parseRegistryAddress(oci.address("x")), loopback: false };
    const refused = new RegistryHttp({ address, credentials: () => Promise.resolve({}), insecure: false });
    await expect(refused.tags("x/replay-env")).rejects.toThrow(
      `The image registry ${oci.host} does not answer over HTTPS`,
    );
    const allowed = new RegistryHttp({ address, credentials: () => Promise.resolve({}), insecure: true });
    await expect(allowed.tags("x/replay-env")).resolves.toEqual([]);
    expect(parseRegistryAddress("127.0.0.1:5000/a/b")).toEqual({
      text: "127.0.0.1:5000/a/b",
      host: "127.0.0.1:5000",
      prefix: "a/b",
      loopback: true,
    });
    expect(parseRegistryAddress("registry.example.org/ci").loopback).toBe(false);
    expect(() => parseRegistryAddress("http://127.0.0.1:5000")).toThrow(/has a scheme/);
    expect(() => parseRegistryAddress("myregistry/ci")).toThrow(/Docker Hub account/);
    expect(() => parseRegistryAddress("127.0.0.1:5000/UPPER")).toThrow(/invalid path component "UPPER"/);
  });

  it("reads credentials as Docker's tools do: auths, credHelpers, DOCKER_CONFIG", async () => {
    const config = path.join(dockerConfig, "config.json");
    await writeFile(
      config,
      JSON.stringify({
        auths: {
          "https://registry.example.org/v1/": { auth: Buffer.from("ci:s3cr:et").toString("base64") },
          "token.example.org": { identitytoken: "tok" },
        },
        credHelpers: { "helper.example.org:5000": "rrtest" },
      }),
    );
    const env = { DOCKER_CONFIG: dockerConfig };
    expect(await registryCredentials("registry.example.org", { env })).toEqual({
      username: "ci",
      password: "s3cr:et",
      identitytoken: undefined,
      registrytoken: undefined,
      serveraddress: "registry.example.org",
    });
    expect(await registryCredentials("token.example.org", { env })).toMatchObject({ identitytoken: "tok" });
    expect(await registryCredentials("other.example.org:443", { env })).toEqual({});
    // A credential helper gets the host on stdin, never on its command line.
    const bin = await mkdtemp(path.join(os.tmpdir(), "rr-helper-"));
    const seen = path.join(bin, "seen");
    await writeFile(
      path.join(bin, "docker-credential-rrtest"),
      `#!/bin/sh\necho "$@" > ${seen}\nhost=$(cat)\necho "$host" >> ${seen}\nprintf '{"ServerURL":"%s","Username":"bot","Secret":"pw"}' "$host"\n`,
    );
    await chmod(path.join(bin, "docker-credential-rrtest"), 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath ?? ""}`;
    try {
      expect(await registryCredentials("helper.example.org:5000", { env })).toEqual({
        username: "bot",
        password: "pw",
        serveraddress: "helper.example.org:5000",
      });
    } finally {
      process.env.PATH = oldPath;
    }
    expect(await readFile(seen, "utf8")).toBe("get\nhelper.example.org:5000\n");
    await rm(bin, { recursive: true, force: true });
    await writeFile(config, "{ not json");
    await expect(registryCredentials("x.example.org", { env })).rejects.toThrow(
      `Docker's client configuration ${config} is not valid JSON.`,
    );
    await rm(config);
  });
});

describe("the pull policy and a registry that goes away, through rerun", { timeout: SLOW_MS }, () => {
  let registry: TestRegistry;
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(args, { env: { ...registry.env, DOCKER_CONFIG: dockerConfig, ...extra }, cwd: registry.dir });
  const manifestOf = async (out: string) =>
    JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as Manifest;

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
  });
  afterAll(async () => {
    await registry.dispose();
  });

  it("--pull always takes the registry's image over a valid local one; missing keeps the local one", async () => {
    const prefix = `always-${nonce}`;
    const address = oci.address(prefix);
    const chain = await recordSharedChain(registry, wheelhouse, `${nonce}a`, 1, "a-");
    const [env] = chain.envs;
    if (env === undefined) throw new Error("no environment");
    refs.push(env.localTag);
    // This runner built the environment without a registry ...
    const local = await cli(["rerun", chain.target, "--out", "o1"], { REPLAY_WHEELHOUSE: wheelhouse });
    expect(local.code, ownStderr(local.stderr)).toBe(0);
    const localId = rowOf(await manifestOf(path.join(registry.dir, "o1")), env.stepId).image?.id;
    // ... and the registry holds another valid image of it.
    const remote = `${address}/replay-env:${env.remoteTag}`;
    const remoteId = variantOf(env.localTag, remote);
    const remoteDigest = dockerPush(remote);

    const missing = await cli(["rerun", chain.target, "--out", "o2", "--image-registry", address]);
    expect(missing.code, ownStderr(missing.stderr)).toBe(0);
    expect(rowOf(await manifestOf(path.join(registry.dir, "o2")), env.stepId).image).toEqual({
      ref: env.localTag,
      id: localId,
      digest: null,
      source: "local",
    });

    const always = await cli([
      "rerun",
      chain.target,
      "--out",
      "o3",
      "--image-registry",
      address,
      "--pull",
      "always",
    ]);
    expect(always.code, ownStderr(always.stderr)).toBe(0);
    expect(rowOf(await manifestOf(path.join(registry.dir, "o3")), env.stepId).image).toEqual({
      ref: env.localTag,
      id: remoteId,
      digest: remoteDigest,
      source: "pulled",
    });
    // The same words from the environment; a wrong word is a usage error.
    const bad = await cli(["rerun", chain.target, "--image-registry", address], { REPLAY_PULL: "sometimes" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--pull "sometimes" is not one of missing, never, always.');
  });

  it("a registry stopped mid-replay costs a build, with a warning; the replay completes", async () => {
    const prefix = `outage-${nonce}`;
    const address = oci.address(prefix);
    const chain = await recordSharedChain(registry, wheelhouse, `${nonce}b`, 2, "b-");
    const [first, second] = chain.envs;
    if (first === undefined || second === undefined) throw new Error("no environments");
    // Both environments are in the registry, neither on this engine.
    const shared = registryFor(prefix);
    refs.push(...chain.envs.map((e) => e.localTag));
    for (const env of chain.envs) {
      const environment = pipEnvironment(env.lock);
      const image = await new DockerImageResolver({ engine, wheelhouse, registry: shared }).resolve(
        environment,
      );
      expect(image.source).toBe("built");
      removeRefs([
        env.localTag,
        `${address}/replay-env:${env.remoteTag}`,
        `${address}/replay-env@${image.digest}`,
      ]);
      expect(imageIdOf(env.localTag)).toBeNull();
    }

    // One step at a time: the registry is stopped the moment the first environment is pulled.
    const out = path.join(registry.dir, "o-outage");
    const child = spawn(
      process.execPath,
      [CLI, "rerun", chain.target, "--out", out, "--jobs", "1", "--image-registry", address],
      {
        cwd: registry.dir,
        env: cliEnv({ ...registry.env, DOCKER_CONFIG: dockerConfig, REPLAY_WHEELHOUSE: wheelhouse }),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    let stopped: Promise<void> | undefined;
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (stopped === undefined && stderr.includes(`pulled ${first.localTag}`)) stopped = oci.stop();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    await stopped;
    await oci.start();
    expect(code, ownStderr(stderr)).toBe(0);
    const manifest = await manifestOf(out);
    expect(manifest.status).toBe("reproduced");
    expect(rowOf(manifest, first.stepId).image?.source).toBe("pulled");
    const row = rowOf(manifest, second.stepId);
    expect(row.image?.source).toBe("built");
    expect(row.image?.digest).toBeNull();
    expect(row.warnings[0]).toMatch(
      new RegExp(
        `^the image registry ${address} could not serve environment ${second.envHash}: The image registry ${oci.host} does not answer \\(ECONNREFUSED\\); building it here$`,
      ),
    );
    expect(row.warnings[1]).toMatch(/^Pushing .* failed: .*; the image stays on this runner only$/);
    expect(stderr).toContain(`warning: ${row.warnings[0]}`);
  });
});

describe("a registry that wants credentials", { timeout: SLOW_MS }, () => {
  let secured: TestOciRegistry;
  let config: string;

  beforeAll(async () => {
    secured = await startOciRegistry({ user: { name: "ci", password: "s3cret" } });
    config = await mkdtemp(path.join(os.tmpdir(), "rr-docker-config-"));
  });
  afterAll(async () => {
    removeNamesUnder(secured.host);
    await secured.dispose();
    await rm(config, { recursive: true, force: true });
  });

  it("pushes and pulls with the credentials of Docker's config.json; without them it builds and says why", async () => {
    const prefix = `auth-${nonce}`;
    const env = await wheelEnv("envauth");
    const address = parseRegistryAddress(secured.address(prefix));
    await writeFile(
      path.join(config, "config.json"),
      JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from("ci:s3cret").toString("base64") } } }),
    );
    const cache = new MemoryImageCache();
    const anonymous = new ImageRegistry({ engine, address, cache, credentials: () => Promise.resolve({}) });
    const loggedIn = new ImageRegistry({
      engine,
      address,
      cache,
      credentials: () => registryCredentials(secured.host, { env: { DOCKER_CONFIG: config } }),
    });

    const refused = await new DockerImageResolver({ engine, wheelhouse, registry: anonymous }).resolve(env);
    expect(refused).toMatchObject({ source: "built", digest: null });
    const login = `The image registry ${secured.host} wants credentials that Docker's config.json does not give`;
    expect(refused.warnings).toEqual([
      `the image registry ${address.text} could not serve environment ${env.envHash}: ${login}; building it here`,
      `Pushing ${secured.host}/${prefix}/replay-env:${envRemoteTag(env.envHash)} failed: ${login}; the image stays on this runner only`,
    ]);

    removeRefs([envImageTag(env.envHash)]);
    const pushed = await new DockerImageResolver({ engine, wheelhouse, registry: loggedIn }).resolve(env);
    expect(pushed.source).toBe("built");
    expect(pushed.warnings).toEqual([]);
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    removeRefs([
      envImageTag(env.envHash),
      `${secured.host}/${prefix}/replay-env:${envRemoteTag(env.envHash)}`,
    ]);
    const pulled = await new DockerImageResolver({ engine, registry: loggedIn }).resolve(env);
    expect(pulled).toMatchObject({
      source: "pulled",
      digest: pushed.digest,
      imageId: pushed.imageId,
      warnings: [],
    });
  });
});
