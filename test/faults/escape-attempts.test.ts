/**
 * A step that tries to get out, end to end through `rerun`: one chain of hostile steps, one
 * replay. A probe whose attempt is contained writes the report recorded as its payload, so its
 * row is `ok`; a protection removed changes the report and the row mismatches. Steps that must
 * fail have a row with `ok: false` and the exact reason.
 */
import { access, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import type { Manifest } from "../../src/replay/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { type CliResult, ownStderr, runCli } from "../support/run-cli.js";
import { createTestRegistry, type TestRegistry } from "../support/test-registry.js";
import { leftoversOf, readManifest, registryDigest, rowOf, strayFiles } from "./fault-harness.js";

/** Small enough that filling it costs little; the sandbox's fsize limit is this plus one byte. */
const MAX_OUTPUT = 32 * 2 ** 20;
const ENTRIES = 100_000;
const PWNED = "/tmp/replay-runner-fault-pwned";

const NETWORK = `import os, socket
lines = [" ".join(sorted(os.listdir("/sys/class/net")))]
# A public address, the default bridge's gateway (the host itself) and name resolution.
for what, f in [("connect 1.1.1.1:53", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2)),
                ("connect 172.17.0.1:2375", lambda: socket.create_connection(("172.17.0.1", 2375), timeout=2)),
                ("resolve deb.debian.org", lambda: socket.getaddrinfo("deb.debian.org", 80))]:
    try:
        f(); lines.append(what + " ok")
    except OSError:
        lines.append(what + " failed")
open("/out/output", "w").write("\\n".join(lines) + "\\n")
`;
const NETWORK_CONTAINED =
  "lo\nconnect 1.1.1.1:53 failed\nconnect 172.17.0.1:2375 failed\nresolve deb.debian.org failed\n";

const WRITES = `import os
targets = ["/in/source", "/in/new", "/code/main.py", "/code/new", "/evil", "/etc/passwd", "/etc/evil",
           "/usr/bin/python3", "/proc/sysrq-trigger", "/sys/fs/cgroup/pids/pids.max"]
lines = []
for t in targets:
    try:
        with open(t, "a") as f:
            f.write("x")
        lines.append(t + " written")
    except OSError:
        lines.append(t + " denied")
for t in ["/work/w", "/tmp/t"]:
    open(t, "w").write("fine")
    lines.append(t + " written")
open("/out/output", "w").write("\\n".join(lines) + "\\n")
`;
const WRITES_CONTAINED = [
  "/in/source denied",
  "/in/new denied",
  "/code/main.py denied",
  "/code/new denied",
  "/evil denied",
  "/etc/passwd denied",
  "/etc/evil denied",
  "/usr/bin/python3 denied",
  "/proc/sysrq-trigger denied",
  "/sys/fs/cgroup/pids/pids.max denied",
  "/work/w written",
  "/tmp/t written",
  "",
].join("\n");

// Paths of the host that a mount exposes: the root of every mount backed by a disk, and
// overlay's layer folders. Only Docker's own data folder may appear, and the three folders
// replay-runner stages and bind-mounts (<REPLAY_HOME>/staging/<random>/s-<random>/{in,code,out}:
// random names, so that a step learns neither the host's name nor a pid; docs/security.md).
const PROC = `import os, re
host = set()
for line in open("/proc/self/mountinfo"):
    left, right = line.split(" - ")
    root = left.split()[3]
    fstype, source, options = right.split()
    if fstype not in ("proc", "sysfs", "tmpfs", "cgroup", "cgroup2", "devpts", "mqueue", "overlay"):
        host.add(root)
    for opt in options.split(","):
        if "=" in opt and opt.split("=", 1)[0] in ("lowerdir", "upperdir", "workdir"):
            host.update(opt.split("=", 1)[1].split(":"))
staged = re.compile(r"^/.+/staging/[0-9a-f]{16}/s-[A-Za-z0-9]{6}/(in|code|out)$")
outside = sorted(staged.sub(r"<staging>/\\1", p) for p in host if not p.startswith("/var/lib/docker/"))
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
lines = ["host paths outside /var/lib/docker: " + (", ".join(outside) or "none"),
         "pid 1: " + open("/proc/1/cmdline").read().replace("\\0", " ").strip(),
         "processes visible: " + str(len(pids)),
         "/proc/1/root/etc/hostname: " + open("/proc/1/root/etc/hostname").read().strip(),
         "/proc/1/root is /: " + str(sorted(os.listdir("/proc/1/root")) == sorted(os.listdir("/")))]
for secret in ["/proc/kcore", "/proc/1/root/../../../etc/shadow", "/proc/self/root/etc/shadow"]:
    try:
        open(secret, "rb").read(1); lines.append(secret + " read")
    except OSError:
        lines.append(secret + " denied")
open("/out/output", "w").write("\\n".join(lines) + "\\n")
`;
const PROC_CONTAINED = [
  "host paths outside /var/lib/docker: <staging>/code, <staging>/in, <staging>/out",
  "pid 1: python3 /code/main.py",
  "processes visible: 1",
  "/proc/1/root/etc/hostname: replay",
  "/proc/1/root is /: True",
  "/proc/kcore denied",
  "/proc/1/root/../../../etc/shadow denied",
  "/proc/self/root/etc/shadow denied",
  "",
].join("\n");

// su is setuid root in the image. Under no-new-privileges the kernel ignores the bit: while su
// waits for a password its uids are still 65534. Capabilities: none, in any set.
const SETUID = `import os, subprocess, time
lines = []
p = subprocess.Popen(["su", "root", "-c", "id -u"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
time.sleep(0.5)
try:
    uids = open("/proc/%d/status" % p.pid).read().split("Uid:")[1].split("\\n")[0].split()
    lines.append("su runs with uids " + " ".join(uids))
except OSError:
    lines.append("su exited early")
p.kill(); p.communicate()
try:
    os.setuid(0); lines.append("setuid(0) ok")
except OSError:
    lines.append("setuid(0) denied")
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"]:
    lines.append(key + " " + status[key].strip())
open("/out/output", "w").write("\\n".join(lines) + "\\n")
`;
const SETUID_CONTAINED = [
  "su runs with uids 65534 65534 65534 65534",
  "setuid(0) denied",
  "CapInh 0000000000000000",
  "CapPrm 0000000000000000",
  "CapEff 0000000000000000",
  "CapBnd 0000000000000000",
  "CapAmb 0000000000000000",
  "NoNewPrivs 1",
  "Seccomp 2",
  "",
].join("\n");

const FORK_BOMB = `import os, time
n = 0
try:
    while n < 10000:
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
except OSError:
    pass
open("/out/output", "w").write("contained" if n < 256 else "escaped: %d processes" % n)
os._exit(0)
`;
const MEMORY_HOG = `b = bytearray(512 * 2**20)
open("/out/output", "w").write("escaped")
`;
// /tmp is a tmpfs sized below the memory limit: the filler meets ENOSPC, not the OOM killer.
// Files of 8 MiB each: the fsize limit (32 MiB) bounds each one, the tmpfs size all of them.
const TMP_FILL = `import errno
written = 0
try:
    while written < 2 * 2**30:
        with open("/tmp/fill-%d" % written, "wb") as f:
            for _ in range(8):
                f.write(b"x" * 2**20); f.flush(); written += 2**20
    outcome = "escaped"
except OSError as e:
    outcome = errno.errorcode[e.errno]
open("/out/output", "w").write(outcome)
`;
const WORK_FILL = `with open("/work/fill", "wb") as f:
    while True:
        f.write(b"x" * 2**20)
`;
const SPARSE = `with open("/out/output", "wb") as f:
    f.seek(10 * 10**9)
    f.write(b"x")
`;
const IGNORES_SIGTERM = `import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(120)
`;
const OUT_SYMLINK = `import os
os.symlink("/etc/passwd", "/out/output")
`;
// A hard link to anything outside /out crosses a mount (EXDEV); one inside /out is a plain file.
const OUT_HARDLINK = `import errno, os
res = []
for target in ["/in/source", "/etc/passwd", "/code/main.py"]:
    try:
        os.link(target, "/out/output"); res.append(target + " linked")
    except OSError as e:
        res.append(target + " " + errno.errorcode[e.errno])
open("/out/real", "w").write("\\n".join(res) + "\\n")
os.link("/out/real", "/out/output")
`;
const OUT_HARDLINK_CONTAINED = "/in/source EXDEV\n/etc/passwd EXDEV\n/code/main.py EXDEV\n";
const OUT_DEVICE = `import os, stat
os.mknod("/out/output", stat.S_IFCHR | 0o666, os.makedev(1, 3))
`;
const OUT_FIFO = `import os
os.mkfifo("/out/output")
`;
const OUT_DIRECTORY = `import os
os.makedirs("/out/output/..evil")
open("/out/output/passwd", "w").write("root::0:0::/:/bin/sh\\n")
`;
const OUT_ENTRIES = `import os
for i in range(${ENTRIES}):
    os.close(os.open("/out/e%d" % i, os.O_CREAT | os.O_WRONLY, 0o644))
open("/out/output", "w").write(str(len(os.listdir("/out"))))
`;
// The recorded command asks for a shell: it gets one, inside the sandbox, never on the host.
const SHELL_COMMAND = ["sh", "-c", `echo $HOME > /out/output; touch ${PWNED}`];

interface Probe {
  id: string;
  script: string;
  /** Recorded payload: what a contained attempt writes. */
  recorded: string;
  parameters?: Record<string, unknown>;
}

const PROBES: Probe[] = [
  { id: "network", script: NETWORK, recorded: NETWORK_CONTAINED },
  { id: "writes", script: WRITES, recorded: WRITES_CONTAINED },
  { id: "proc", script: PROC, recorded: PROC_CONTAINED },
  { id: "setuid", script: SETUID, recorded: SETUID_CONTAINED },
  { id: "fork-bomb", script: FORK_BOMB, recorded: "contained", parameters: { timeout_s: 60 } },
  { id: "memory", script: MEMORY_HOG, recorded: "escaped", parameters: { memory_mb: 64 } },
  { id: "tmp-fill", script: TMP_FILL, recorded: "ENOSPC", parameters: { memory_mb: 128 } },
  { id: "work-fill", script: WORK_FILL, recorded: "never written" },
  { id: "sparse", script: SPARSE, recorded: "never written" },
  { id: "sigterm", script: IGNORES_SIGTERM, recorded: "never written", parameters: { timeout_s: 2 } },
  { id: "out-symlink", script: OUT_SYMLINK, recorded: "never written" },
  { id: "out-hardlink", script: OUT_HARDLINK, recorded: OUT_HARDLINK_CONTAINED },
  { id: "out-device", script: OUT_DEVICE, recorded: "never written" },
  { id: "out-fifo", script: OUT_FIFO, recorded: "never written" },
  { id: "out-directory", script: OUT_DIRECTORY, recorded: "never written" },
  { id: "out-entries", script: OUT_ENTRIES, recorded: String(ENTRIES + 1), parameters: { timeout_s: 300 } },
  { id: "shell", script: "unused", recorded: "/work\n", parameters: { command: SHELL_COMMAND } },
];

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe("escape attempts by a step, through rerun", () => {
  let registry: TestRegistry;
  let out: string;
  let result: CliResult;
  let manifest: Manifest;
  let digestBefore: string;

  beforeAll(async () => {
    await rm(PWNED, { force: true });
    registry = await createTestRegistry("postgres");
    await registry.with(async (db) => {
      const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
      await f.artifact("raw", "a,b\n1,2\n");
      await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
      for (const probe of PROBES) {
        await f.scriptStep({
          id: `s-${probe.id}`,
          source: "raw",
          target: probe.id,
          payload: probe.recorded,
          script: probe.script,
          parameters: probe.parameters,
        });
      }
      // One target that depends on every probe, so one replay runs them all.
      await f.artifact("all", "unused");
      await f.step({
        id: "s-all",
        target: "all",
        stepType: "merge",
        inputs: PROBES.map((p) => ({ name: p.id, artifactId: p.id })),
        parameters: { code_hash: await f.blob('open("/out/output", "w").write("unused")\n') },
      });
    });
    digestBefore = await registryDigest(registry);
    out = path.join(registry.dir, "out");
    result = await runCli(["rerun", "all", "--out", out, "--jobs", "2"], {
      env: { ...registry.env, REPLAY_MAX_OUTPUT_BYTES: String(MAX_OUTPUT) },
      cwd: registry.dir,
    });
    manifest = await readManifest(out);
  }, 600_000);

  afterAll(async () => {
    await registry.dispose();
  });

  const payloadOf = (id: string) => readFile(path.join(out, "artifacts", id), "utf8");

  it("ends as a replay that did not reproduce (exit 1), with nothing lost", async () => {
    expect(ownStderr(result.stderr)).toBe("");
    expect(result.code).toBe(1);
    expect(await registryDigest(registry)).toBe(digestBefore);
    expect(await leftoversOf(result.pid)).toEqual({ containers: [], volumes: [] });
    expect(await strayFiles(out)).toEqual([]);
  });

  it("has no network: only lo; connections (also to the host's bridge) and DNS fail", async () => {
    expect(rowOf(manifest, "s-network")).toMatchObject({ ok: true, reason: null });
    expect(await payloadOf("network")).toBe(NETWORK_CONTAINED);
  });

  it("cannot write /in, /code, /, /etc, /usr, /proc or /sys; can write /work and /tmp", async () => {
    expect(rowOf(manifest, "s-writes")).toMatchObject({ ok: true, reason: null });
    expect(await payloadOf("writes")).toBe(WRITES_CONTAINED);
  });

  it("sees no host path through /proc but Docker's folders and its own staged folders; pid 1 is the step", async () => {
    expect(await payloadOf("proc")).toBe(PROC_CONTAINED);
    expect(rowOf(manifest, "s-proc").ok).toBe(true);
  });

  it("gains nothing from a setuid binary: no-new-privileges, no capabilities, seccomp filter on", async () => {
    expect(await payloadOf("setuid")).toBe(SETUID_CONTAINED);
    expect(rowOf(manifest, "s-setuid").ok).toBe(true);
  });

  it("contains a fork bomb below 256 processes", async () => {
    expect(await payloadOf("fork-bomb")).toBe("contained");
    expect(rowOf(manifest, "s-fork-bomb").ok).toBe(true);
  });

  it("kills a step that allocates past its memory limit, and says so", () => {
    expect(rowOf(manifest, "s-memory")).toMatchObject({
      ok: false,
      status: "failed",
      output_hash_replayed: null,
      reason: "the step ran out of memory (limit 64 MiB, no swap) and was killed",
    });
  });

  it("bounds /tmp by its tmpfs size: the filler gets ENOSPC", async () => {
    expect(await payloadOf("tmp-fill")).toBe("ENOSPC");
    expect(rowOf(manifest, "s-tmp-fill").ok).toBe(true);
  });

  it("bounds every file on /work and /out by the fsize limit: a disk filler or a 10 GB sparse file dies of SIGXFSZ", () => {
    // Python ignores SIGXFSZ, so its write fails with EFBIG instead of the process dying of the signal.
    const reason = "the step exited with status 1: OSError: [Errno 27] File too large";
    expect(rowOf(manifest, "s-work-fill")).toMatchObject({ ok: false, status: "failed", reason });
    expect(rowOf(manifest, "s-sparse")).toMatchObject({ ok: false, status: "failed", reason });
  });

  it("kills a step that ignores SIGTERM at its time limit (SIGKILL)", () => {
    const row = rowOf(manifest, "s-sigterm");
    expect(row).toMatchObject({
      ok: false,
      status: "failed",
      reason: "the step ran longer than its limit of 2 s and was killed",
    });
    expect(row.duration_ms).toBeLessThan(15_000);
  });

  it("refuses an output that is a symlink, a device, a FIFO or a directory", () => {
    expect(rowOf(manifest, "s-out-symlink")).toMatchObject({
      ok: false,
      reason: '/out/output is a symbolic link to "/etc/passwd", not a regular file',
    });
    // Without CAP_MKNOD the step cannot even create the device: it dies of the EPERM.
    expect(rowOf(manifest, "s-out-device")).toMatchObject({
      ok: false,
      reason: "the step exited with status 1: PermissionError: [Errno 1] Operation not permitted",
    });
    expect(rowOf(manifest, "s-out-fifo")).toMatchObject({
      ok: false,
      reason: "/out/output is a FIFO, not a regular file",
    });
    expect(rowOf(manifest, "s-out-directory")).toMatchObject({
      ok: false,
      reason: "/out/output is a directory, not a regular file",
    });
  });

  it("cannot hard-link anything outside /out; a hard link inside /out is just the file's bytes", async () => {
    expect(await payloadOf("out-hardlink")).toBe(OUT_HARDLINK_CONTAINED);
    expect(rowOf(manifest, "s-out-hardlink").ok).toBe(true);
  });

  it(`reads only /out/output when /out holds ${ENTRIES} other entries`, async () => {
    expect(await payloadOf("out-entries")).toBe(String(ENTRIES + 1));
    expect(rowOf(manifest, "s-out-entries").ok).toBe(true);
  });

  it("runs a recorded `sh -c` inside the sandbox, never on the host", async () => {
    expect(rowOf(manifest, "s-shell")).toMatchObject({ ok: true, reason: null });
    expect(await exists(PWNED)).toBe(false);
  });
});
