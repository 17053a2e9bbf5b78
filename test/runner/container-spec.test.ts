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
