/**
 * Two CI runners share environment images through a real OCI registry (Debian's
 * docker-registry on 127.0.0.1). Runner A is this machine's engine: it builds an environment
 * and pushes it. Runner B is a second Docker engine that starts with no image at all: it
 * replays the same chain from the same PostgreSQL registry by pulling, builds nothing, and runs
 * in the images with the same digests.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_IMAGE } from "../../src/images/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { startServe } from "../server/serve-process.js";
import { startOciRegistry, type TestOciRegistry } from "../support/oci-registry.js";
import { ownStderr, runCli } from "../support/run-cli.js";
import { startSecondEngine, type SecondEngine } from "../support/second-engine.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { imageIdOf, recordSharedChain, removeRefs, rowOf, type SharedChain } from "./shared-chain.js";

/** Builds, pushes of the base image (~190 MB) and pulls, on a machine shared with other suites. */
const SLOW_MS = 300_000;
const nonce = randomBytes(5).toString("hex");
const PREFIX = `ci-${nonce}`;

let oci: TestOciRegistry;
let engineB: SecondEngine;
let registry: TestRegistry;
let wheelhouse: string;
let dockerConfig: string;
let chain: SharedChain;
let address: string;

interface Event {
  status?: string;
  Action?: string;
  Type?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** What engine B did between two instants, from its own event log. */
async function eventsOf(since: number, until: number, filters: string[]): Promise<Event[]> {
  const out = await engineB.docker([
    "events",
    "--since",
    String(since),
    "--until",
    String(until),
    "--format",
    "{{json .}}",
    ...filters.flatMap((f) => ["--filter", f]),
  ]);
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Event);
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { ...registry.env, DOCKER_CONFIG: dockerConfig, ...extra };
}

async function rerun(out: string, args: string[], extra: Record<string, string>) {
  const result = await runCli(["rerun", chain.target, "--out", out, "--image-registry", address, ...args], {
    env: env(extra),
    cwd: registry.dir,
  });
  const manifest = JSON.parse(
    await readFile(path.join(out, "manifest.json"), "utf8").catch(() => "null"),
  ) as Manifest | null;
  return { ...result, manifest };
}

/** The host's bridge (the main engine's network), if it has one: the second engine must leave it alone. */
function hasDocker0(): boolean {
  try {
    execFileSync("ip", ["link", "show", "docker0"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const docker0Before = hasDocker0();

beforeAll(async () => {
  [oci, engineB, registry] = await Promise.all([
    startOciRegistry(),
    startSecondEngine(),
    createTestRegistry("postgres"),
  ]);
  address = oci.address(PREFIX);
  wheelhouse = await mkdtemp(path.join(os.tmpdir(), "rr-wheels-"));
  dockerConfig = await mkdtemp(path.join(os.tmpdir(), "rr-docker-config-"));
  chain = await recordSharedChain(registry, wheelhouse, nonce, 1);
});

afterAll(async () => {
  // This engine's images of the test, and the names it gave them in the registry; the base
  // image keeps its own tag (only the registry's name for it is removed).
  removeRefs([
    ...chain.envs.flatMap((e) => [e.localTag, `${oci.host}/${PREFIX}/replay-env:${e.remoteTag}`]),
    `${oci.host}/${PREFIX}/replay-base:bookworm`,
  ]);
  await Promise.all([engineB.dispose(), oci.dispose(), registry.dispose()]);
  await rm(wheelhouse, { recursive: true, force: true });
  await rm(dockerConfig, { recursive: true, force: true });
});

describe("environment images shared by two runners through an OCI registry", { timeout: SLOW_MS }, () => {
  it("runner B pulls what runner A built and pushed, builds nothing, and runs in the same digests", async () => {
    const [probe] = chain.envs;
    if (probe === undefined) throw new Error("no environment");
    expect(await engineB.docker(["images", "-q"])).toBe("");
    expect(hasDocker0()).toBe(docker0Before);

    const a = await rerun(path.join(registry.dir, "out-a"), [], { REPLAY_WHEELHOUSE: wheelhouse });
    expect(a.code, ownStderr(a.stderr)).toBe(0);
    const aRow = rowOf(a.manifest!, probe.stepId);
    expect(aRow.image).toMatchObject({ ref: probe.localTag, source: "built" });
    expect(aRow.image?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.stderr).toContain(`pushed ${probe.localTag} to ${address}/replay-env@${aRow.image?.digest}`);
    // The base was on runner A already: used as it is, then pushed along with the environment.
    expect(rowOf(a.manifest!, "s-upper").image).toMatchObject({ ref: BASE_IMAGE, source: "local" });
    expect(a.stderr).toMatch(
      new RegExp(`pushed replay-base:bookworm to ${address}/replay-base@sha256:[0-9a-f]{64}`),
    );

    const since = Math.floor(Date.now() / 1000) - 1;
    // No wheelhouse and no network on runner B: a build there could not even succeed.
    const b = await rerun(path.join(registry.dir, "out-b"), [], { DOCKER_HOST: engineB.dockerHost });
    const until = Math.ceil(Date.now() / 1000) + 1;
    expect(b.code, ownStderr(b.stderr)).toBe(0);
    expect(b.manifest?.status).toBe("reproduced");
    const bRow = rowOf(b.manifest!, probe.stepId);
    expect(bRow.image).toEqual({
      ref: probe.localTag,
      id: aRow.image?.id,
      digest: aRow.image?.digest,
      source: "pulled",
    });
    expect(bRow.warnings).toEqual([]);
    // The base image came from the registry too, as runner A's exact image.
    const baseRow = rowOf(b.manifest!, "s-upper");
    expect(baseRow.image).toMatchObject({ ref: BASE_IMAGE, id: imageIdOf(BASE_IMAGE), source: "pulled" });
    expect(baseRow.image?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // Engine B's own record: two pulls by digest, and every container it created was a step's
    // (a build creates containers that carry none of a run's labels).
    const pulls = await eventsOf(since, until, ["type=image", "event=pull"]);
    expect(pulls.map((e) => e.id ?? e.Actor?.ID).sort()).toEqual(
      [
        `${address}/replay-base@${baseRow.image?.digest}`,
        `${address}/replay-env@${aRow.image?.digest}`,
      ].sort(),
    );
    const created = await eventsOf(since, until, ["type=container", "event=create"]);
    expect(created.length).toBe(2);
    for (const event of created)
      expect(event.Actor?.Attributes?.["org.replay-runner.run"]).toBe(b.manifest?.replay_id);
    expect(await engineB.docker(["image", "inspect", "--format", "{{.Id}}", probe.localTag])).toBe(
      `${aRow.image?.id}\n`,
    );
    // The replay page says where each step's image came from, and its digest.
    const serve = await startServe(registry, { DOCKER_CONFIG: dockerConfig });
    try {
      const page = await (await fetch(`${serve.url}/replays/${b.manifest?.replay_id ?? ""}`)).text();
      const digest = aRow.image?.digest ?? "";
      expect(page).toContain(
        `<code title="${aRow.image?.id ?? ""}">${probe.localTag}</code> <span class="muted image-source">pulled</span><div class="image-digest"><code title="${digest}">${digest.slice(0, 19)}…</code></div>`,
      );
    } finally {
      await serve.stop();
    }
  });

  it("--pull never builds on runner B although the registry has the environment", async () => {
    const [probe] = chain.envs;
    if (probe === undefined) throw new Error("no environment");
    // Runner B has the base (pulled above, or seeded here) but not the environment.
    if ((await engineB.docker(["images", "-q", BASE_IMAGE])).trim() === "") await engineB.seed(BASE_IMAGE);
    const pinned = (
      await engineB
        .docker(["image", "inspect", "--format", "{{json .RepoDigests}}", probe.localTag])
        .catch(() => "[]")
    ).trim();
    removeRefs([probe.localTag, ...(JSON.parse(pinned) as string[])], engineB.dockerHost);

    const since = Math.floor(Date.now() / 1000) - 1;
    const b = await rerun(path.join(registry.dir, "out-never"), ["--pull", "never"], {
      DOCKER_HOST: engineB.dockerHost,
      REPLAY_WHEELHOUSE: wheelhouse,
    });
    const until = Math.ceil(Date.now() / 1000) + 1;
    expect(b.code, ownStderr(b.stderr)).toBe(0);
    const row = rowOf(b.manifest!, probe.stepId);
    expect(row.image?.source).toBe("built");
    expect(row.image?.id).not.toBe(imageIdOf(probe.localTag));
    expect(await eventsOf(since, until, ["type=image", "event=pull"])).toEqual([]);
    expect(rowOf(b.manifest!, "s-upper").image?.source).toBe("local");
  });

  it("images ls, prune and pull move an environment image by hand", async () => {
    const [probe] = chain.envs;
    if (probe === undefined) throw new Error("no environment");
    const cli = (args: string[]) =>
      runCli(["images", ...args, "--image-registry", address], {
        env: env({ DOCKER_HOST: engineB.dockerHost }),
        cwd: registry.dir,
      });
    const listed = await cli(["ls", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const ls = JSON.parse(listed.stdout) as {
      registry: string;
      local: { image: string; env_hash: string | null; digest: string | null }[];
      pinned: { key: string; digest: string; via: string }[];
      remote: { env: string[]; base: string[] };
    };
    expect(ls.registry).toBe(address);
    expect(ls.remote).toEqual({ env: [probe.remoteTag], base: ["bookworm"] });
    // Runner B's build of --pull never was pushed: the pin follows it (a shared database).
    const pin = ls.pinned.find((p) => p.key === probe.envHash);
    expect(pin?.via).toBe("pushed");
    expect(ls.local.find((l) => l.env_hash === probe.envHash)).toMatchObject({
      image: probe.localTag,
      digest: pin?.digest,
    });

    const pruned = await cli(["prune"]);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/^removed [1-9]\d* environment image\(s\)\n$/);
    expect(await engineB.docker(["images", "-q", probe.localTag])).toBe("");

    const pulled = await cli(["pull", probe.envHash]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toBe(
      `pulled ${address}/replay-env@${pin?.digest}\n${probe.localTag} is ${imageIdOf(probe.localTag, engineB.dockerHost)}\n`,
    );

    // Pushed back by hand: the registry already has every blob, and the digest is the same.
    const pushed = await cli(["push", probe.envHash]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toBe(
      `pushed ${probe.localTag} as ${address}/replay-env:${probe.remoteTag}\n${address}/replay-env@${pin?.digest ?? ""}\n`,
    );

    const unknown = await cli(["pull", `sha256:${"0".repeat(64)}`]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`The registry has no environment sha256:${"0".repeat(64)}.`);
  });
});
