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

describe("REPLAY_IMAGE_REGISTRY, REPLAY_PULL and REPLAY_IMAGE_REGISTRY_INSECURE", () => {
  it("has no registry, pull policy missing and no plain HTTP beyond loopback by default", () => {
    const settings = resolveSettings({}, {}, "/work");
    expect([settings.imageRegistry, settings.pullPolicy, settings.imageRegistryInsecure]).toEqual([
      undefined,
      "missing",
      false,
    ]);
  });

  it("takes the flags over the environment", () => {
    const env = { REPLAY_IMAGE_REGISTRY: "registry.example.org/ci", REPLAY_PULL: "never" };
    expect(resolveSettings({}, env, "/work")).toMatchObject({
      imageRegistry: {
        text: "registry.example.org/ci",
        host: "registry.example.org",
        prefix: "ci",
        loopback: false,
      },
      pullPolicy: "never",
    });
    expect(resolveSettings({ imageRegistry: "localhost:5000/", pull: "always" }, env, "/work")).toMatchObject(
      { imageRegistry: { text: "localhost:5000", prefix: "", loopback: true }, pullPolicy: "always" },
    );
  });

  it("refuses a registry with a scheme, a policy it does not know, and an insecure value that is no yes or no", () => {
    expect(() => resolveSettings({}, { REPLAY_IMAGE_REGISTRY: "https://r.example.org" }, "/work")).toThrow(
      /has a scheme/,
    );
    expect(() => resolveSettings({}, { REPLAY_PULL: "sometimes" }, "/work")).toThrow(
      '--pull "sometimes" is not one of missing, never, always.',
    );
    expect(resolveSettings({}, { REPLAY_IMAGE_REGISTRY_INSECURE: "1" }, "/work").imageRegistryInsecure).toBe(
      true,
    );
    expect(() => resolveSettings({}, { REPLAY_IMAGE_REGISTRY_INSECURE: "maybe" }, "/work")).toThrow(
      'REPLAY_IMAGE_REGISTRY_INSECURE "maybe" is neither 1 nor 0.',
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
      /^REPLAY_DIFF_IMAGE "x; rm -rf \/" is not an image reference: /,
    );
    expect(() => settings({ REPLAY_DIFF_TIMEOUT_S: "1.5" })).toThrow(
      'REPLAY_DIFF_TIMEOUT_S "1.5" is not a whole number of seconds from 1 to 86400.',
    );
    expect(() => settings({ REPLAY_DIFF_TIMEOUT_S: "0" })).toThrow(ReplayError);
  });
});
