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

describe("the registry URL", () => {
  it("is refused unless postgres:// or postgresql://, shown without its password", () => {
    const refusal = (db: string) => {
      try {
        resolveSettings({ db }, {}, "/work");
      } catch (error) {
        return (error as ReplayError).message;
      }
      return "accepted";
    };
    expect(refusal("host=db user=ada password=Zq7-s3cret")).toBe(
      'The registry URL "host=db user=ada password=***" must be a postgres:// or postgresql:// URL.',
    );
    expect(refusal("mysql://ada:Zq7-s3cret@db/registry")).toBe(
      'The registry URL "mysql://ada:***@db/registry" must be a postgres:// or postgresql:// URL.',
    );
    expect(resolveSettings({ db: "postgres://ada:Zq7-s3cret@db/registry" }, {}, "/work").databaseUrl).toBe(
      "postgres://ada:Zq7-s3cret@db/registry",
    );
  });
});
