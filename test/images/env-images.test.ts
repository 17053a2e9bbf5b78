/** Environment images: built once from a wheelhouse, reused by labels, one build for concurrent resolves. */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplayError } from "../../src/errors/index.js";
import { envHashOf } from "../../src/hashing/index.js";
import {
  BASE_IMAGE,
  BASE_IMAGE_HINT,
  DockerImageResolver,
  ensureBaseImage,
  envImageTag,
} from "../../src/images/index.js";
import type { DockerEngine } from "../../src/runner/index.js";
import { buildTestWheel } from "../support/test-wheel.js";
import { engine, runPython, textOf } from "../runner/step-fixture.js";

function dangling(): string[] {
  return execFileSync("docker", ["images", "-q", "--no-trunc", "-f", "dangling=true"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l !== "");
}

function pipEnvironment(lock: string) {
  const columns = { baseImage: BASE_IMAGE, lockfileKind: "pip", requirementsLock: lock };
  return { ...columns, envHash: envHashOf(columns) };
}

const nonce = randomBytes(6).toString("hex");
let wheelhouse: string;
let lock: string;
const tags: string[] = [];
let danglingBefore: string[];

beforeAll(async () => {
  danglingBefore = dangling();
  wheelhouse = await mkdtemp(path.join(os.tmpdir(), "rr-wheels-"));
  const wheel = await buildTestWheel(wheelhouse, `replayprobe_${nonce}`, "1.0", `VALUE = "${nonce}"\n`);
  // A second wheel the lock does not pin: it must not be sent to the build.
  await buildTestWheel(wheelhouse, `unrelated_${nonce}`, "2.0", "X = 1\n");
  lock = wheel.lockLine;
});

afterAll(async () => {
  for (const tag of tags) execFileSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
  await rm(wheelhouse, { recursive: true, force: true });
  // Nothing of ours dangles, and no new dangling image appeared.
  expect(dangling().filter((id) => !danglingBefore.includes(id))).toEqual([]);
});

function countingEngine(): { engine: DockerEngine; builds: () => number } {
  let builds = 0;
  return {
    engine: { ...engine, buildImage: (...args) => (builds++, engine.buildImage(...args)) },
    builds: () => builds,
  };
}

describe("environment images", () => {
  it("builds a pip environment once, shares it between concurrent resolves, and reuses it", async () => {
    const env = pipEnvironment(lock);
    tags.push(envImageTag(env.envHash));
    const counting = countingEngine();
    const logs: string[] = [];
    const resolver = new DockerImageResolver({
      engine: counting.engine,
      wheelhouse,
      log: (l) => logs.push(l),
    });
    const [a, b] = await Promise.all([resolver.resolve(env), resolver.resolve(env)]);
    expect(counting.builds()).toBe(1);
    expect(a.ref).toBe(`replay-env:${env.envHash.slice(7, 39)}`);
    expect(a.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.imageId).toBe(a.imageId);
    expect(a.source).toBe("built");
    expect(a.digest).toBeNull();
    expect(logs.join("\n")).toMatch(/building replay-env:/);

    const again = await resolver.resolve(env);
    expect(again).toMatchObject({ ref: a.ref, imageId: a.imageId, source: "local" });
    // Another process (a fresh resolver) finds it by its labels.
    const fresh = await new DockerImageResolver({ engine: counting.engine, wheelhouse }).resolve(env);
    expect(fresh).toMatchObject({ imageId: a.imageId, source: "local" });
    expect(counting.builds()).toBe(1);

    const labels = JSON.parse(
      execFileSync("docker", ["image", "inspect", "--format", "{{json .Config.Labels}}", a.ref], {
        encoding: "utf8",
      }),
    ) as Record<string, string>;
    expect(labels["org.replay-runner.env-hash"]).toBe(env.envHash);
    expect(labels["org.replay-runner.lock-sha256"]).toMatch(/^[0-9a-f]{64}$/);
    expect(labels["org.replay-runner.base-ref"]).toBe(BASE_IMAGE);

    // The step sees the package where the contract says pip puts it, and nothing else of the build.
    const out = textOf(
      await runPython(
        `import importlib, os
m = importlib.import_module("replayprobe_${nonce}")
names = sorted(n for n in os.listdir("/usr/local/lib/python3.11/dist-packages") if "${nonce}" in n)
open("/out/output", "w").write(m.VALUE + " " + m.__file__ + " " + ",".join(names) + " " + str(sorted(os.environ)))
`,
        { image: a.imageId },
      ),
    );
    expect(out).toBe(
      `${nonce} /usr/local/lib/python3.11/dist-packages/replayprobe_${nonce}/__init__.py replayprobe_${nonce},replayprobe_${nonce}-1.0.dist-info ` +
        "['HOME', 'HOSTNAME', 'LANG', 'LC_ALL', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONHASHSEED', 'SOURCE_DATE_EPOCH', 'TZ']",
    );
  });

  it("fails a build whose pinned wheel is not in the wheelhouse with IMAGE_BUILD and the build log", async () => {
    const env = pipEnvironment(`missing_${nonce}==1.0 --hash=sha256:${"0".repeat(64)}\n`);
    tags.push(envImageTag(env.envHash));
    const error = await new DockerImageResolver({ engine, wheelhouse }).resolve(env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplayError);
    expect((error as ReplayError).code).toBe("IMAGE_BUILD");
    expect((error as ReplayError).message).toMatch(/build log[\s\S]*missing_/);
    expect((error as ReplayError).hint).toMatch(/REPLAY_WHEELHOUSE/);
  });

  it("runs unpinned steps and `none` environments in the base image", async () => {
    const resolver = new DockerImageResolver({ engine });
    const base = await resolver.resolve(null);
    expect(base).toMatchObject({ ref: BASE_IMAGE, source: "local", digest: null });
    const none = await resolver.resolve({
      envHash: "sha256:x",
      baseImage: BASE_IMAGE,
      lockfileKind: "none",
      requirementsLock: "",
    });
    expect(none.imageId).toBe(base.imageId);
  });

  it("refuses a base image it cannot have, and an unknown lockfile kind", async () => {
    const resolver = new DockerImageResolver({ engine });
    const missing = {
      envHash: "sha256:y",
      baseImage: "python:3.11-slim-nowhere",
      lockfileKind: "none",
      requirementsLock: "",
    };
    await expect(resolver.resolve(missing)).rejects.toThrow(/replay-runner does not pull it/);
    await expect(
      resolver.resolve({ ...missing, baseImage: BASE_IMAGE, lockfileKind: "conda" }),
    ).rejects.toThrow(/conda/);
  });

  it("says how to build the base image when this process cannot", async () => {
    const noBase: DockerEngine = { ...engine, inspectImage: () => Promise.resolve(null) };
    const error = await ensureBaseImage(noBase, { log: () => undefined, canBuild: () => false }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "IMAGE_BUILD", hint: BASE_IMAGE_HINT });
    expect(BASE_IMAGE_HINT).toBe("sudo bash scripts/setup-host.sh base-image");
  });
});
