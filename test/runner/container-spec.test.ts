/** The hardened create body, checked as data (the real-engine tests check its effects). */
import { describe, expect, it } from "vitest";
import { containerSpec } from "../../src/runner/index.js";

describe("containerSpec", () => {
  const spec = containerSpec({
    image: "img",
    command: ["python3", "/code/main.py"],
    env: { TZ: "UTC" },
    memoryBytes: 2 * 2 ** 30,
    maxOutputBytes: 5 * 2 ** 30,
    labels: { a: "b" },
    cpus: 1,
  });

  it("isolates the step as the contract says", () => {
    expect(spec).toMatchObject({
      Env: ["TZ=UTC"],
      Entrypoint: [],
      Hostname: "replay",
      User: "65534:65534",
      WorkingDir: "/work",
      NetworkDisabled: true,
      Labels: { a: "b" },
    });
    expect(spec.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      PidsLimit: 256,
      Memory: 2 * 2 ** 30,
      MemorySwap: 2 * 2 ** 30,
      NanoCpus: 1e9,
      Privileged: false,
    });
    expect(spec.HostConfig.Ulimits).toContainEqual({
      Name: "fsize",
      Soft: 5 * 2 ** 30 + 1,
      Hard: 5 * 2 ** 30 + 1,
    });
    expect(spec.HostConfig.Mounts.map((m) => [m.Type, m.Source, m.Target])).toEqual([
      ["volume", "", "/in"],
      ["volume", "", "/code"],
      ["volume", "", "/out"],
      ["volume", "", "/work"],
    ]);
    expect(JSON.stringify(spec)).not.toMatch(/docker\.sock|Binds/);
  });
});

describe("containerSpec with a triage variation", () => {
  const input = {
    image: "img",
    command: ["python3", "/code/main.py"],
    env: { TZ: "UTC", HOME: "/work" },
    memoryBytes: 2 * 2 ** 30,
    maxOutputBytes: 5 * 2 ** 30,
    labels: { a: "b" },
    cpus: 2,
    binds: [
      { source: "/s/in", target: "/in", readOnly: true },
      { source: "/s/code", target: "/code", readOnly: true },
    ],
  };
  // The create body before variations existed, byte for byte: no variation changes nothing.
  const TODAY =
    '{"Image":"img","Cmd":["python3","/code/main.py"],"Entrypoint":[],"Env":["TZ=UTC","HOME=/work"],"Hostname":"replay","User":"65534:65534","WorkingDir":"/work","Labels":{"a":"b"},"NetworkDisabled":true,"AttachStdin":false,"AttachStdout":false,"AttachStderr":true,"OpenStdin":false,"Tty":false,"HostConfig":{"ReadonlyRootfs":true,"CapDrop":["ALL"],"SecurityOpt":["no-new-privileges"],"PidsLimit":256,"Memory":2147483648,"MemorySwap":2147483648,"NanoCpus":2000000000,"IpcMode":"private","Ulimits":[{"Name":"nofile","Soft":4096,"Hard":4096},{"Name":"fsize","Soft":5368709121,"Hard":5368709121},{"Name":"core","Soft":0,"Hard":0}],"Tmpfs":{"/tmp":"rw,nosuid,nodev,size=1073741824,mode=1777"},"Mounts":[{"Type":"bind","Source":"/s/in","Target":"/in","ReadOnly":true},{"Type":"bind","Source":"/s/code","Target":"/code","ReadOnly":true},{"Type":"volume","Source":"","Target":"/out","VolumeOptions":{"NoCopy":false,"Labels":{"a":"b"},"DriverConfig":{"Name":"local","Options":{}}}},{"Type":"volume","Source":"","Target":"/work","VolumeOptions":{"NoCopy":false,"Labels":{"a":"b"},"DriverConfig":{"Name":"local","Options":{}}}}],"LogConfig":{"Type":"none","Config":{}},"Privileged":false,"AutoRemove":false}}';

  it("leaves the default body byte-identical to what it was before variations", () => {
    expect(JSON.stringify(containerSpec(input))).toBe(TODAY);
    expect(JSON.stringify(containerSpec({ ...input, variation: undefined }))).toBe(TODAY);
  });

  it("wraps the recorded argv in setarch for another machine, around the umask", () => {
    expect(containerSpec({ ...input, variation: { arch: "i686" } }).Cmd).toEqual([
      "setarch",
      "i686",
      "python3",
      "/code/main.py",
    ]);
    expect(containerSpec({ ...input, variation: { arch: "i686", umask: "0002" } }).Cmd.slice(0, 4)).toEqual([
      "setarch",
      "i686",
      "/bin/sh",
      "-c",
    ]);
  });

  it("applies each knob and keeps every hardening member as it was", () => {
    const varied = containerSpec({
      ...input,
      variation: {
        cpusetCpus: "0",
        env: { PYTHONHASHSEED: "1", LD_PRELOAD: "/.replay-runner/libfaketime.so.1" },
        readOnlyFiles: [{ source: "/usr/lib/x.so", target: "/.replay-runner/libfaketime.so.1" }],
        hostname: "elsewhere",
        umask: "0002",
      },
    });
    const today = JSON.parse(TODAY) as ReturnType<typeof containerSpec>;
    expect(varied.Cmd).toEqual([
      "/bin/sh",
      "-c",
      'umask "$0" && exec "$@"',
      "0002",
      "python3",
      "/code/main.py",
    ]);
    expect(varied.Env).toEqual([
      "TZ=UTC",
      "HOME=/work",
      "PYTHONHASHSEED=1",
      "LD_PRELOAD=/.replay-runner/libfaketime.so.1",
    ]);
    expect(varied.Hostname).toBe("elsewhere");
    expect(varied.HostConfig.CpusetCpus).toBe("0");
    expect(varied.HostConfig.Mounts.at(-1)).toEqual({
      Type: "bind",
      Source: "/usr/lib/x.so",
      Target: "/.replay-runner/libfaketime.so.1",
      ReadOnly: true,
    });
    // Everything else is exactly today's body.
    expect({
      ...varied,
      Cmd: today.Cmd,
      Env: today.Env,
      Hostname: today.Hostname,
      HostConfig: {
        ...varied.HostConfig,
        CpusetCpus: undefined,
        Mounts: varied.HostConfig.Mounts.slice(0, -1),
      },
    }).toEqual(today);
  });

  it.each([
    [
      { readOnlyFiles: [{ source: "/x", target: "/in/source" }] },
      /mounts files under \/\.replay-runner\/ only/,
    ],
    [{ readOnlyFiles: [{ source: "/x", target: "/.replay-runner/../etc/passwd" }] }, /only/],
    [{ readOnlyFiles: [{ source: "x", target: "/.replay-runner/x" }] }, /not an absolute path/],
    [{ env: { "A=B": "x" } }, /cannot be set/],
    [{ cpusetCpus: "0; rm" }, /not a CPU list/],
    [{ hostname: "a b" }, /not a plain host name/],
    [{ umask: "9" }, /not octal/],
    [{ arch: "i686; sh" }, /not an architecture name/],
  ])("refuses a variation that would change the sandbox's shape: %j", (variation, message) => {
    expect(() => containerSpec({ ...input, variation })).toThrow(message);
  });
});
