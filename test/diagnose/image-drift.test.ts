/**
 * Image drift: a step recorded in one environment image and replayed in a rebuilt one (another
 * image id) carries a warning naming both ids, and so does a step whose last reproduced replay
 * ran in another image; triage's drift explanation names them too. The environment is a pip
 * lock of a wheel unique to this test, so its image is this test's own to remove and rebuild.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { envImageTag } from "../../src/images/index.js";
import type { Manifest, ManifestStep } from "../../src/replay/index.js";
import { cli } from "../record/cli-pipeline.js";
import { readManifest } from "../faults/fault-harness.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { BACKENDS, createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { buildTestWheel } from "../support/test-wheel.js";

const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

describe.each(BACKENDS)("image drift (%s)", (backend) => {
  const nonce = randomBytes(6).toString("hex");
  const module = `driftprobe_${nonce}`;
  const script = `import ${module}\nopen("/out/output", "w").write(${module}.VALUE + open("/in/source").read())\n`;
  let registry: TestRegistry;
  let wheelhouse: string;
  let tag: string;
  let okId: string;
  let recordedImage: string;
  const manifests: Manifest[] = [];

  const rerun = async (artifact: string, extra: string[] = []): Promise<Manifest> => {
    const out = path.join(registry.dir, `out-${manifests.length}`);
    await runCli(["rerun", artifact, "--out", out, ...extra], {
      env: { ...registry.env, REPLAY_WHEELHOUSE: wheelhouse },
      cwd: registry.dir,
    });
    const manifest = await readManifest(out);
    manifests.push(manifest);
    return manifest;
  };
  const row = (m: Manifest, id: string): ManifestStep => m.steps.find((s) => s.target_artifact_id === id)!;

  beforeAll(async () => {
    registry = await createTestRegistry(backend);
    wheelhouse = path.join(registry.dir, "wheels");
    const wheel = await buildTestWheel(wheelhouse, module, "1.0", `VALUE = "${nonce}\\n"\n`);
    await writeFile(path.join(registry.dir, "requirements.lock"), wheel.lockLine);
    await writeFile(path.join(registry.dir, "step.py"), script);
    await writeFile(path.join(registry.dir, "raw.csv"), "a,b\n1,2\n");
    const env = { REPLAY_WHEELHOUSE: wheelhouse };
    const raw = await cli(registry, ["add", "raw.csv"], env);
    // Recorded by replay-runner itself: the artifact's metadata gets the image id it ran in.
    okId = await cli(
      registry,
      ["run", "transform", "--input", raw, "--code", "step.py", "--env", "requirements.lock"],
      env,
    );
    await registry.with(async (db) => {
      const [ok] = await db.query<{ metadata: { image_id: string }; step_id: string; env_hash: string }>(
        `SELECT a.metadata, s.id AS step_id, s.env_hash FROM artifacts a JOIN processing_steps s ON s.target_artifact_id = a.id WHERE a.id = $1`,
        [okId],
      );
      recordedImage = ok!.metadata.image_id;
      tag = envImageTag(ok!.env_hash);
      // A step recorded in that same image whose recorded payload is a slightly different file.
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      f.hashes.set(
        raw,
        (
          await db.query<{ content_hash: string }>(`SELECT content_hash FROM artifacts WHERE id = $1`, [raw])
        )[0]!.content_hash,
      );
      await f.artifact("det", `${nonce}\nA,B\n1,2\n`, { metadata: { image_id: recordedImage } });
      await f.step({
        id: "s-det",
        source: raw,
        target: "det",
        stepType: "transform",
        envHash: ok!.env_hash,
        parameters: { code_hash: await f.blob(script) },
      });
    });
    expect(recordedImage).toMatch(IMAGE_ID);
  }, 600_000);
  afterAll(async () => {
    execFileSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
    await registry.dispose();
  });

  it("warns of nothing while the step replays in the image it was recorded in", async () => {
    const first = await rerun(okId);
    const ok = row(first, okId);
    expect([ok.status, ok.image?.id, ok.image_drift]).toEqual(["reproduced", recordedImage, null]);
    expect(ok.warnings.filter((w) => w.startsWith("image drift"))).toEqual([]);
  });

  it("warns, naming both ids, once the environment image was rebuilt", async () => {
    execFileSync("docker", ["rmi", "-f", tag], { stdio: "ignore" });
    const second = await rerun(okId);
    const ok = row(second, okId);
    const rebuilt = ok.image!.id;
    expect(rebuilt).toMatch(IMAGE_ID);
    expect(rebuilt).not.toBe(recordedImage);
    expect(ok.status).toBe("reproduced");
    expect(ok.image_drift).toEqual({
      recorded: recordedImage,
      last_reproduced: recordedImage,
      last_reproduced_replay: manifests[0]!.replay_id,
      replayed: rebuilt,
    });
    expect(ok.warnings.filter((w) => w.startsWith("image drift"))).toEqual([
      `image drift: recorded in image ${recordedImage}, replayed in ${rebuilt}; the output still reproduced`,
      `image drift: the last replay that reproduced this step (${manifests[0]!.replay_id}) ran it in image ${recordedImage}, this one in ${rebuilt}; the output still reproduced`,
    ]);
  });

  it("names both ids in the drift verdict of a deterministic step whose record differs", async () => {
    const third = await rerun("det", ["--triage"]);
    const det = row(third, "det");
    const rebuilt = manifests[1]!.steps.find((s) => s.target_artifact_id === okId)!.image!.id;
    expect([det.status, det.divergence, det.image?.id]).toEqual(["mismatch", "origin", rebuilt]);
    expect(det.image_drift).toEqual({
      recorded: recordedImage,
      last_reproduced: null,
      last_reproduced_replay: null,
      replayed: rebuilt,
    });
    expect(det.warnings).toContain(`image drift: recorded in image ${recordedImage}, replayed in ${rebuilt}`);
    expect(det.triage?.verdict).toBe("drift");
    expect(det.triage?.explanation).toContain(
      `it was recorded in image ${recordedImage} and replayed in ${rebuilt}; no earlier replay reproduced it`,
    );
  });
});
