/**
 * When diffoscope cannot give a report, the built-in diff stands in and the row says why: an
 * image that cannot be built (no Debian mirror), an image that build-diffoscope-image.sh did not
 * make, diffoscope stopped by its wall clock. The verdict never changes.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { DIFFOSCOPE_LABEL } from "../../src/diagnose/index.js";
import type { Manifest, ManifestStep } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { ownStderr, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { COPY_SCRIPT, pngBomb } from "./hostile-payloads.js";
import { seedSciencePayloads } from "./science-payloads.js";

const docker = promisify(execFile);
const SVG_EXPLANATION = '3 lines differ, first "<!-- generated 2026-01-02T03:04:05Z -->"';

describe("the built-in diff stands in when diffoscope cannot run", () => {
  let registry: TestRegistry;
  const suffix = randomBytes(4).toString("hex");
  const unbuildable = `replay-diffoscope:no-mirror-${suffix}`;
  const unlabelled = `replay-diffoscope:unlabelled-${suffix}`;

  beforeAll(async () => {
    registry = await createTestRegistry("embedded");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await seedSciencePayloads(f);
      // A PNG of 10000×10000 pixels: diffoscope needs about 6 s for it here (sng's dump, then the
      // diff), so its 1 s wall clock stops it on any machine. 3000×3000 took about 1 s, and CI's
      // faster machine finished it within the limit.
      await f.artifact("slow-b.png", await pngBomb(1, 10_000));
      await f.step({ id: "s-slow-b.png", target: "slow-b.png", stepType: "ingest", inputHash: null });
      await f.scriptStep({
        id: "s-slow",
        source: "slow-b.png",
        target: "slow.png",
        payload: await pngBomb(0, 10_000),
        script: COPY_SCRIPT,
      });
    });
    await docker("docker", ["tag", "replay-base:bookworm", unlabelled]);
  });
  afterAll(async () => {
    await docker("docker", ["rmi", unlabelled]).catch(() => undefined);
    await registry.dispose();
  });

  async function rerun(target: string, env: Record<string, string>, diff = true) {
    const out = path.join(
      registry.dir,
      `${target}-${Object.values(env)
        .join("-")
        .replace(/[^\w.-]/g, "_")}-${diff}`,
    );
    const result = await runCli(["rerun", target, "--out", out, ...(diff ? ["--diff"] : [])], {
      env: { ...registry.env, ...env },
      cwd: registry.dir,
    });
    const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as Manifest;
    return { result, out, row: manifest.steps.find((s) => s.target_artifact_id === target)! };
  }

  const verdict = (r: ManifestStep) => [r.status, r.ok, r.output_hash_live, r.output_hash_replayed, r.reason];

  async function expectBuiltin(out: string, row: ManifestStep, base: string): Promise<string> {
    expect(row.diff).toMatchObject({
      tool: "builtin",
      files: { text: `diffs/${base}.txt`, html: null, json: null },
      truncated: false,
    });
    const text = await readFile(path.join(out, row.diff!.files.text), "utf8");
    expect(text).toMatch(/^sizes: live \d+ bytes, replayed \d+ bytes\nfirst differing byte: offset \d+\n/);
    const warning = row.warnings.find((w) => w.startsWith("diff: "));
    expect(warning).toMatch(
      /^diff: diffoscope could not explain this mismatch \(.+\); the built-in diff stands in$/,
    );
    return warning!;
  }

  it("no Debian mirror: the image cannot be built, the row says so, the verdict is the same", async () => {
    const { result, out, row } = await rerun("figure.svg", {
      REPLAY_DIFF_IMAGE: unbuildable,
      REPLAY_DEBIAN_MIRROR: "http://127.0.0.1:9/debian",
    });
    expect(result.code).toBe(1);
    expect(ownStderr(result.stderr)).toContain(
      `${unbuildable} is missing: building it offline from Debian's packages`,
    );
    const warning = await expectBuiltin(out, row, "s-svg");
    expect(warning).toContain(`Building ${unbuildable} failed`);
    // The built-in diff explains a text as diffoscope does: changed lines, the first quoted.
    expect(row.diff?.explanation).toBe(SVG_EXPLANATION);
    expect(result.stdout).toContain(`diff  ${SVG_EXPLANATION}\n`);
    const plain = await rerun("figure.svg", {}, false);
    expect(verdict(row)).toEqual(verdict(plain.row));
    // Nothing of the failed build is left in the engine.
    const { stdout } = await docker("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(stdout.split("\n").filter((tag) => tag.includes(suffix) && tag !== unlabelled)).toEqual([]);
  });

  it("an image that scripts/build-diffoscope-image.sh did not make is refused", async () => {
    const { out, row } = await rerun("summary.json", { REPLAY_DIFF_IMAGE: unlabelled });
    const warning = await expectBuiltin(out, row, "s-json");
    expect(warning).toContain(`${unlabelled} has no ${DIFFOSCOPE_LABEL} label naming a diffoscope version`);
  });

  it("diffoscope stopped by its wall clock: the row names the limit", async () => {
    const { out, row } = await rerun("slow.png", { REPLAY_DIFF_TIMEOUT_S: "1" });
    const warning = await expectBuiltin(out, row, "s-slow");
    expect(warning).toContain("(diffoscope ran longer than its limit of 1 s)");
    expect(row.diff?.explanation).toMatch(
      /^bytes differ from offset \d+ \(0x[0-9a-f]+\)(; sizes \d+ and \d+ bytes)?$/,
    );
  });
});
