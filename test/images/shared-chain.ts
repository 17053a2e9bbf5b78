/**
 * A chain for the shared-image tests: an ingest, a step in the base image (`none` environment),
 * then one analysis step per pip environment, each in its own environment built from a test
 * wheel. Expected payloads are computed here, independently of the scripts.
 */
import { execFileSync } from "node:child_process";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest, ManifestStep } from "../../src/replay/index.js";
import { BASE_IMAGE, envImageTag, envRemoteTag } from "../../src/images/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { buildTestWheel } from "../support/test-wheel.js";
import type { TestRegistry } from "../support/test-registry.js";

export const RAW = "a,b\n1,2\n";

const UPPER = `open("/out/output", "w").write(open("/in/source").read().upper())
`;

export interface SharedEnv {
  envHash: string;
  lock: string;
  module: string;
  stepId: string;
  /** replay-env:<32 hex> */
  localTag: string;
  /** The tag in the registry: the whole env_hash. */
  remoteTag: string;
}

export interface SharedChain {
  target: string;
  /** The step in the base image. */
  baseStepId: string;
  envs: SharedEnv[];
}

export async function recordSharedChain(
  registry: TestRegistry,
  wheelhouse: string,
  nonce: string,
  envCount: number,
  /** Prefixes every row id: several chains in one registry. */
  ids = "",
): Promise<SharedChain> {
  const blobs = new BlobStore(registry.blobRoot);
  const envs: SharedEnv[] = [];
  let target = `${ids}upper`;
  await registry.with(async (db) => {
    const f = new RegistryFixture(db, blobs);
    await f.artifact(`${ids}raw`, RAW);
    await f.step({ id: `${ids}s-raw`, target: `${ids}raw`, stepType: "ingest", inputHash: null });
    const none = await f.environment(BASE_IMAGE, "none", "");
    let payload = RAW.toUpperCase();
    await f.scriptStep({
      id: `${ids}s-upper`,
      source: `${ids}raw`,
      target: `${ids}upper`,
      payload,
      script: UPPER,
      envHash: none,
    });
    let source = `${ids}upper`;
    for (let i = 1; i <= envCount; i++) {
      const module = `shared_${nonce}_${i}`;
      const value = `env ${i} of ${nonce}\n`;
      const wheel = await buildTestWheel(wheelhouse, module, "1.0", `VALUE = ${JSON.stringify(value)}\n`);
      const envHash = await f.environment(BASE_IMAGE, "pip", wheel.lockLine);
      payload = value + payload;
      const stepId = `${ids}s-env-${i}`;
      await f.scriptStep({
        id: stepId,
        source,
        target: `${ids}out-${i}`,
        payload,
        stepType: "analysis",
        envHash,
        script: `import ${module}\nopen("/out/output", "w").write(${module}.VALUE + open("/in/source").read())\n`,
      });
      source = `${ids}out-${i}`;
      target = source;
      envs.push({
        envHash,
        lock: wheel.lockLine,
        module,
        stepId,
        localTag: envImageTag(envHash),
        remoteTag: envRemoteTag(envHash),
      });
    }
  });
  return { target, baseStepId: `${ids}s-upper`, envs };
}

export function rowOf(manifest: Manifest, stepId: string): ManifestStep {
  const row = manifest.steps.find((s) => s.step_id === stepId);
  if (row === undefined) throw new Error(`no row ${stepId} in the manifest`);
  return row;
}

/** Removes image references from an engine (tags, or digests); what is not there is fine. */
export function removeRefs(refs: string[], dockerHost?: string): void {
  for (const ref of refs) {
    try {
      execFileSync("docker", ["rmi", ref], {
        stdio: "ignore",
        env: dockerHost === undefined ? process.env : { ...process.env, DOCKER_HOST: dockerHost },
      });
    } catch {
      // not there
    }
  }
}

export function imageIdOf(ref: string, dockerHost?: string): string | null {
  try {
    return execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", ref], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      env: dockerHost === undefined ? process.env : { ...process.env, DOCKER_HOST: dockerHost },
    }).trim();
  } catch {
    return null;
  }
}
