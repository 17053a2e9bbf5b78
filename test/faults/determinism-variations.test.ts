/**
 * reprotest-style variations of the host: the same replay under another time zone, locale,
 * umask, user environment and working directory gives the same hashes, because nothing of the
 * host reaches the step. The script writes what it can see of those, so a leak changes a hash.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { readManifest, rowOf } from "./fault-harness.js";

const PROBE = `import locale, os, time
locale.setlocale(locale.LC_ALL, "")
mask = os.umask(0); os.umask(mask)
open("/work/f", "w").write("x")
lines = [time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(int(os.environ["SOURCE_DATE_EPOCH"]))),
         str(locale.getlocale()), oct(mask), oct(os.stat("/work/f").st_mode), os.getcwd(),
         " ".join(sorted(os.environ)), str(hash("replay"))]
open("/out/output", "w").write("\\n".join(lines) + "\\n")
`;

describe("determinism under host variations", () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "a,b\n1,2\n");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      await f.scriptStep({
        id: "s-probe",
        source: "raw",
        target: "probe",
        payload: "recorded elsewhere",
        script: PROBE,
      });
    });
  });

  afterAll(async () => {
    await registry.dispose();
  });

  it("gives the same output_hash_replayed whatever the host's TZ, locale, umask, env and cwd", async () => {
    const plain = path.join(registry.dir, "plain");
    const varied = path.join(registry.dir, "varied");
    const elsewhere = path.join(registry.dir, "some", "other", "cwd");
    await mkdir(elsewhere, { recursive: true });
    const a = await runCli(["rerun", "probe", "--out", plain], {
      env: { ...registry.env, TZ: "UTC", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
      cwd: registry.dir,
      umask: "022",
    });
    const b = await runCli(["rerun", "probe", "--out", varied], {
      env: {
        ...registry.env,
        TZ: "Pacific/Kiritimati",
        LANG: "fr_FR.UTF-8",
        LC_ALL: "fr_FR.UTF-8",
        HOME: "/nonexistent",
        PYTHONHASHSEED: "12345",
        SOURCE_DATE_EPOCH: "1",
        REPLAY_FAULT_EXTRA: "leak me",
      },
      cwd: elsewhere,
      umask: "077",
    });
    // The recorded payload is not what the probe writes: both exit 1, with the same replayed hash.
    expect([a.code, b.code]).toEqual([1, 1]);
    const [ma, mb] = await Promise.all([readManifest(plain), readManifest(varied)]);
    expect(ma.steps.map((s) => s.output_hash_replayed)).toEqual(mb.steps.map((s) => s.output_hash_replayed));
    expect(rowOf(ma, "s-probe").output_hash_replayed).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
