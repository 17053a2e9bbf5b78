import { describe, expect, it } from "vitest";
import { ReplayError } from "../errors/index.js";
import { resolveSettings } from "./settings.js";

const hostMounts = (env: NodeJS.ProcessEnv) => resolveSettings({}, env, "/work").hostMounts;

describe("REPLAY_HOST_MOUNTS", () => {
  it("is on by default for a local engine, off for a remote one", () => {
    expect(hostMounts({})).toBe(true);
    expect(hostMounts({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" })).toBe(true);
    expect(hostMounts({ DOCKER_HOST: "tcp://10.0.0.2:2376" })).toBe(false);
    expect(hostMounts({ DOCKER_HOST: "ssh://ci@builder" })).toBe(false);
  });

  it("is off when asked, and refuses anything but auto and off", () => {
    expect(hostMounts({ REPLAY_HOST_MOUNTS: "off" })).toBe(false);
    expect(hostMounts({ REPLAY_HOST_MOUNTS: "AUTO" })).toBe(true);
    expect(() => hostMounts({ REPLAY_HOST_MOUNTS: "yes" })).toThrow(ReplayError);
    expect(() => hostMounts({ REPLAY_HOST_MOUNTS: "yes" })).toThrow(
      'REPLAY_HOST_MOUNTS "yes" is neither "auto" nor "off".',
    );
  });
});

describe("REPLAY_DIFF_IMAGE and REPLAY_DIFF_TIMEOUT_S", () => {
  const settings = (env: NodeJS.ProcessEnv) => resolveSettings({}, env, "/work");

  it("default to the diff module's own image and wall clock", () => {
    expect(settings({})).toMatchObject({ diffImage: undefined, diffTimeoutS: undefined });
    expect(
      settings({ REPLAY_DIFF_IMAGE: "my-diffoscope:bookworm", REPLAY_DIFF_TIMEOUT_S: "600" }),
    ).toMatchObject({
      diffImage: "my-diffoscope:bookworm",
      diffTimeoutS: 600,
    });
  });

  it("refuse what is not an image reference or a whole number of seconds", () => {
    expect(() => settings({ REPLAY_DIFF_IMAGE: "x; rm -rf /" })).toThrow(
      'REPLAY_DIFF_IMAGE "x; rm -rf /" is not an image reference.',
    );
    expect(() => settings({ REPLAY_DIFF_TIMEOUT_S: "1.5" })).toThrow(
      'REPLAY_DIFF_TIMEOUT_S "1.5" is not a whole number of seconds from 1 to 86400.',
    );
    expect(() => settings({ REPLAY_DIFF_TIMEOUT_S: "0" })).toThrow(ReplayError);
  });
});
