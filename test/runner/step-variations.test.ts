/**
 * The executor's variation knobs (src/runner/types.ts StepVariation) on a real engine: each
 * changes what the step sees, and only that; a remote-style executor (archives) refuses the
 * ones that need this host's files.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import {
  DockerStepExecutor,
  StagingRoot,
  bytesSource,
  tmpfsStagingBase,
  type StepVariation,
} from "../../src/runner/index.js";
import { CONTRACT_ENV, engine, pythonStep, runPython, textOf } from "./step-fixture.js";

const FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const base = await mkdtemp(path.join(os.tmpdir(), "rr-variations-"));
const tmpfsBase = tmpfsStagingBase();
const listing = tmpfsBase === undefined ? undefined : new StagingRoot(path.join(tmpfsBase, "test"));
const staging = new StagingRoot(path.join(base, "staging"));
const executor = new DockerStepExecutor({ engine, staging, listingStaging: listing });
afterAll(async () => {
  await executor.settled();
  await staging.dispose();
  await listing?.dispose();
  if (listing !== undefined) await rm(listing.base, { recursive: true, force: true });
  await rm(base, { recursive: true, force: true });
});

async function run(code: string, variation?: StepVariation, inputs?: string[]) {
  const outputFile = path.join(base, `out-${Math.random().toString(16).slice(2)}`);
  const request = pythonStep(code, outputFile, {
    variation,
    ...(inputs === undefined ? {} : { inputs: inputs.map((n) => bytesSource(n, Buffer.from(n))) }),
  });
  const result = await executor.runStep(request);
  const output = result.status === "succeeded" ? await readFile(outputFile) : null;
  return { result, output };
}

const CLOCK = `import subprocess, time
date = subprocess.run(["date", "-u", "+%s"], capture_output=True, text=True).stdout.strip()
open("/out/output", "w").write(f"{date} {time.time()}\\n")
`;

describe("step variations on a real engine", () => {
  it("has Debian's libfaketime on this host (scripts/setup-host.sh installs it)", () => {
    expect(existsSync(FAKETIME_LIB)).toBe(true);
  });

  it("freezes the wall clock of `date` and Python's time.time() under a read-only root", async () => {
    const frozen = await run(CLOCK, {
      readOnlyFiles: [{ source: FAKETIME_LIB, target: "/.replay-runner/libfaketime.so.1" }],
      env: {
        LD_PRELOAD: "/.replay-runner/libfaketime.so.1",
        FAKETIME: "946684800",
        FAKETIME_FMT: "%s",
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
        NO_FAKE_STAT: "1",
      },
    });
    expect(textOf(frozen)).toBe("946684800 946684800.0\n");
  });

  it("shows one CPU to nproc and sched_getaffinity with cpusetCpus 0, while os.cpu_count() still sees all", async () => {
    const code = `import os, subprocess
n = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
open("/out/output", "w").write(f"{n} {len(os.sched_getaffinity(0))} {os.cpu_count()}\\n")
`;
    const all = os.availableParallelism();
    expect(textOf(await run(code))).toBe(`${all} ${all} ${all}\n`);
    expect(textOf(await run(code, { cpusetCpus: "0" }))).toBe(`1 1 ${all}\n`);
  });

  it("lists /in in the reverse order with inOrder reversed, and in the normal order without", async () => {
    const code = `import os\nopen("/out/output", "w").write(" ".join(os.listdir("/in")) + "\\n")\n`;
    const names = ["alpha", "zeta", "mid", "beta"];
    const normal = textOf(await run(code, undefined, names))
      .trim()
      .split(" ");
    expect([...normal].sort()).toEqual([...names, "params.json"].sort());
    expect(
      textOf(await run(code, undefined, names))
        .trim()
        .split(" "),
    ).toEqual(normal);
    const reversed = textOf(await run(code, { inOrder: "reversed" }, names))
      .trim()
      .split(" ");
    expect(reversed).toEqual([...normal].reverse());
  });

  it("sets env overrides, the host name and the umask, keeping uid 65534 and the read-only root", async () => {
    const code = `import os, socket
open("/work/f", "w").write("x")
try:
    open("/etc/x", "w"); ro = "writable"
except OSError:
    ro = "read-only"
mode = oct(os.stat("/work/f").st_mode & 0o777)
open("/out/output", "w").write(f"{os.environ['PYTHONHASHSEED']} {os.environ['TZ']} {socket.gethostname()} {mode} {os.getuid()} {ro}\\n")
`;
    expect(textOf(await runPython(code))).toBe("0 UTC replay 0o644 65534 read-only\n");
    expect(
      textOf(
        await run(code, {
          env: { PYTHONHASHSEED: "1", TZ: "<+14>-14" },
          hostname: "elsewhere",
          umask: "0002",
        }),
      ),
    ).toBe("1 <+14>-14 elsewhere 0o664 65534 read-only\n");
  });

  it("reports another machine through setarch (the image has it; the seccomp profile allows it)", async () => {
    const code = `import os, platform\nopen("/out/output", "w").write(f"{os.uname().machine} {platform.machine()} {os.getuid()}\\n")\n`;
    expect(textOf(await run(code))).toBe("x86_64 x86_64 65534\n");
    expect(textOf(await run(code, { arch: "i686" }))).toBe("i686 i686 65534\n");
  });

  it("refuses the knobs that need this host's files when files travel as archives", async () => {
    const archives = new DockerStepExecutor({ engine });
    expect(archives.variationSupport()).toEqual({
      readOnlyFiles: expect.stringMatching(/needs host mounts/) as string,
      inOrder: expect.stringMatching(/needs host mounts/) as string,
    });
    const result = await archives.runStep(
      pythonStep("open('/out/output','w').write('x')", path.join(base, "never"), {
        variation: { inOrder: "reversed" },
      }),
    );
    expect(result).toMatchObject({
      status: "failed",
      failure: "start",
      reason: expect.stringMatching(/^the variation cannot be applied: it needs host mounts/) as string,
    });
    await archives.settled();
  });

  it("keeps the contract's environment exactly when no variation is given", async () => {
    const code = `import os\nopen("/out/output", "w").write(" ".join(sorted(os.environ)) + "\\n")\n`;
    expect(textOf(await run(code))).toBe(`${[...Object.keys(CONTRACT_ENV), "HOSTNAME"].sort().join(" ")}\n`);
  });
});
