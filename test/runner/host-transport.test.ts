/** Host mounts: what is specific to them (the sandbox itself is checked for both transports). */
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fileSource } from "../../src/handlers/index.js";
import {
  DockerStepExecutor,
  EngineRequestError,
  LINK_FROM_BYTES,
  StagingRoot,
  reapStaleStaging,
  type DockerEngine,
} from "../../src/runner/index.js";
import {
  CONTRACT_ENV,
  ONE_GIB_LIMITS,
  ONE_GIB_OF_ZEROS,
  ONE_GIB_OF_ZEROS_HASH,
  engine,
  pythonStep,
  withPeakRss,
} from "./step-fixture.js";

const base = await mkdtemp(path.join(os.tmpdir(), "rr-host-mounts-"));
afterAll(() => rm(base, { recursive: true, force: true }));

/** Folders of steps still under a staging root (the process folder itself stays until dispose). */
async function stepFolders(root: StagingRoot): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(root.base).catch(() => [])) {
    if (name.endsWith(".owner")) continue;
    found.push(...(await readdir(path.join(root.base, name))));
  }
  return found;
}

describe("host mounts", () => {
  it("moves a 1 GiB output into place and hashes it with bounded memory, leaving no staged folder", async () => {
    const staging = new StagingRoot(path.join(base, "big"));
    const executor = new DockerStepExecutor({ engine, staging });
    const outputFile = path.join(base, "big-output");
    const { value: result, growth } = await withPeakRss(() =>
      executor.runStep(pythonStep(ONE_GIB_OF_ZEROS, outputFile, ONE_GIB_LIMITS)),
    );
    expect(result).toMatchObject({ status: "succeeded", size: 2 ** 30, contentHash: ONE_GIB_OF_ZEROS_HASH });
    expect(executor.transport).toBe("host-mounts");
    expect(growth).toBeLessThan(64 * 2 ** 20);
    // The step wrote it as 65534; it is now this process's, and nobody else may change it.
    const info = await stat(outputFile);
    expect([info.uid, info.size, info.mode & 0o777]).toEqual([process.getuid?.(), 2 ** 30, 0o644]);
    await executor.settled();
    expect(await stepFolders(staging)).toEqual([]);
    await staging.dispose();
    expect(await readdir(staging.base)).toEqual([]);
  });

  it("removes the staged folder when a step fails, whatever the step left in /out", async () => {
    const staging = new StagingRoot(path.join(base, "failing"));
    const executor = new DockerStepExecutor({ engine, staging });
    const result = await executor.runStep(
      pythonStep(
        'import os\nos.makedirs("/out/a/b")\nopen("/out/a/b/f", "w").write("x")\nos.chmod("/out/a", 0)\nos.symlink("/etc/shadow", "/out/output")\n',
        path.join(base, "failing-output"),
      ),
    );
    expect(result).toMatchObject({
      status: "failed",
      failure: "output",
      reason: '/out/output is a symbolic link to "/etc/shadow", not a regular file',
    });
    await executor.settled();
    expect(await stepFolders(staging)).toEqual([]);
    await staging.dispose();
  });

  it("refuses an output over the limit before moving it", async () => {
    const staging = new StagingRoot(path.join(base, "limit"));
    const executor = new DockerStepExecutor({ engine, staging });
    const outputFile = path.join(base, "limit-output");
    const result = await executor.runStep(
      // The fsize limit is one byte over the output limit: the largest file the step can write.
      pythonStep('open("/out/output", "wb").write(b"x" * 4097)\n', outputFile, { maxOutputBytes: 4096 }),
    );
    expect(result).toMatchObject({
      status: "failed",
      failure: "output",
      reason: "/out/output is 4097 bytes, over the limit of 4096 bytes",
    });
    await expect(stat(outputFile)).rejects.toThrow(/ENOENT/);
    await staging.dispose();
  });

  it("falls back to archives, once and for good, when the engine cannot see the staged folder", async () => {
    let refused = 0;
    const refusing: DockerEngine = {
      ...engine,
      createContainer: async (body) => {
        if (body.HostConfig.Mounts.some((m) => m.Type === "bind")) {
          refused++;
          throw new EngineRequestError(
            400,
            'create container: invalid mount config for type "bind": bind source path does not exist: /nowhere',
          );
        }
        return engine.createContainer(body);
      },
    };
    const staging = new StagingRoot(path.join(base, "refused"));
    const executor = new DockerStepExecutor({ engine: refusing, staging });
    const outputFile = path.join(base, "refused-output");
    const code = 'open("/out/output", "wb").write(open("/in/source", "rb").read())\n';
    expect(await executor.runStep(pythonStep(code, outputFile))).toMatchObject({
      status: "succeeded",
      size: 8,
    });
    expect(await executor.runStep(pythonStep(code, outputFile + "2"))).toMatchObject({ status: "succeeded" });
    expect([refused, executor.transport]).toEqual([1, "archives"]);
    await executor.settled();
    expect(await stepFolders(staging)).toEqual([]);
    await staging.dispose();
  });
});

describe("large inputs", () => {
  it("hard-links an input of LINK_FROM_BYTES or more, copies a smaller one or one it cannot link; all read-only", async () => {
    const big = path.join(base, "big-input");
    const small = path.join(base, "small-input");
    // Another filesystem (tmpfs): no hard link possible, so a copy whatever the size.
    const far = path.join(await mkdtemp("/dev/shm/rr-far-"), "far-input");
    await writeFile(big, Buffer.alloc(LINK_FROM_BYTES, 7));
    await writeFile(small, Buffer.alloc(LINK_FROM_BYTES - 1, 7));
    await writeFile(far, Buffer.alloc(LINK_FROM_BYTES, 7));
    const staging = new StagingRoot(path.join(base, "links"));
    const executor = new DockerStepExecutor({ engine, staging });
    const probe = `import os
lines = []
for name in ["big", "small", "far"]:
    st = os.stat("/in/" + name)
    try:
        open("/in/" + name, "ab"); writable = "writable"
    except OSError as e:
        writable = "read-only"
    lines.append("%s %d %d %s" % (name, st.st_size, st.st_nlink, writable))
lines.append("small mtime %d, far mtime %d" % (os.stat("/in/small").st_mtime, os.stat("/in/far").st_mtime))
open("/out/output", "w").write("\\n".join(lines))
`;
    const outputFile = path.join(base, "links-output");
    const result = await executor.runStep({
      ...pythonStep(probe, outputFile),
      inputs: [
        fileSource("big", big, LINK_FROM_BYTES),
        fileSource("small", small, LINK_FROM_BYTES - 1),
        fileSource("far", far, LINK_FROM_BYTES),
      ],
    });
    expect(result).toMatchObject({ status: "succeeded" });
    expect((await readFile(outputFile, "utf8")).split("\n")).toEqual([
      `big ${LINK_FROM_BYTES} 2 read-only`,
      `small ${LINK_FROM_BYTES - 1} 1 read-only`,
      `far ${LINK_FROM_BYTES} 1 read-only`,
      `small mtime ${CONTRACT_ENV.SOURCE_DATE_EPOCH}, far mtime ${CONTRACT_ENV.SOURCE_DATE_EPOCH}`,
    ]);
    await executor.settled();
    // The link went with the staged folder; the file it pointed at is untouched.
    expect((await stat(big)).nlink).toBe(1);
    await staging.dispose();
    await rm(path.dirname(far), { recursive: true, force: true });
  });
});

describe("reapStaleStaging", () => {
  it("removes the folders of dead processes of this host, and only those", async () => {
    const root = path.join(base, "reap");
    await mkdir(root);
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const owners = {
      dead: `${dead} ${os.hostname()}`,
      live: `${process.ppid} ${os.hostname()}`,
      elsewhere: `${dead} another-host`,
    };
    for (const [name, owner] of Object.entries(owners)) {
      await writeFile(path.join(root, `${name}.owner`), `${owner}\n`);
      await mkdir(path.join(root, name, "s-1", "in"), { recursive: true });
    }
    expect(await reapStaleStaging(root)).toEqual([path.join(root, "dead")]);
    expect((await readdir(root)).sort()).toEqual(["elsewhere", "elsewhere.owner", "live", "live.owner"]);
    expect(await reapStaleStaging(path.join(base, "no-such-folder"))).toEqual([]);
  });
});
