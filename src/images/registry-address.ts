/**
 * REPLAY_IMAGE_REGISTRY: `host[:port][/prefix]`, where shared environment images live. The host
 * must read as a registry in a Docker reference (a `.` or `:` in it, or `localhost`): otherwise
 * Docker would take `name/replay-env` for a Docker Hub user's repository.
 *
 * (This parses only the registry part. Validating whole image references, e.g. `base_image`
 * values, belongs to images/image-reference.ts.)
 */
import { ReplayError } from "../errors/index.js";

export interface RegistryAddress {
  /** As the user wrote it, normalised: `host[:port][/prefix]`. */
  text: string;
  /** `host[:port]`: what credentials and X-Registry-Auth are keyed by. */
  host: string;
  /** The path under the host, `""` or `a/b`. */
  prefix: string;
  /** 127.0.0.0/8, ::1 or localhost: plain HTTP is allowed there, as Docker allows it. */
  loopback: boolean;
}

/** Docker's path component grammar (distribution/reference). */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOSTNAME =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;
const IPV6 = /^\[[0-9a-fA-F:.]+\]$/;

const HINT =
  "Set REPLAY_IMAGE_REGISTRY (or --image-registry) to host:port[/prefix], e.g. 127.0.0.1:5000/replay or registry.example.org/ci.";

function bad(raw: string, why: string): ReplayError {
  return new ReplayError("USAGE", `The image registry "${raw}" ${why}.`, { hint: HINT });
}

function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === "localhost" || h === "[::1]") return true;
  const parts = h.split(".");
  return (
    parts.length === 4 && parts[0] === "127" && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)
  );
}

export function parseRegistryAddress(raw: string): RegistryAddress {
  const value = raw.trim().replace(/\/+$/, "");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    throw bad(
      raw,
      "has a scheme: name the registry as host:port[/prefix] (the scheme is chosen as Docker chooses it)",
    );
  const slash = value.indexOf("/");
  const host = slash === -1 ? value : value.slice(0, slash);
  const prefix = slash === -1 ? "" : value.slice(slash + 1);
  const portAt = host.startsWith("[") ? host.indexOf("]:") + 1 : host.lastIndexOf(":");
  const hostname = portAt > 0 ? host.slice(0, portAt) : host;
  const port = portAt > 0 ? host.slice(portAt + 1) : undefined;
  if (hostname === "" || !(HOSTNAME.test(hostname) || IPV6.test(hostname)))
    throw bad(raw, `has no valid host name ("${hostname}")`);
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    throw bad(raw, `has an invalid port ("${port}")`);
  if (port === undefined && !hostname.includes(".") && hostname !== "localhost" && !IPV6.test(hostname))
    throw bad(
      raw,
      "does not name a registry host (Docker would read it as a Docker Hub account): add a port or a domain",
    );
  const components = prefix === "" ? [] : prefix.split("/");
  const wrong = components.find((c) => !COMPONENT.test(c));
  if (wrong !== undefined)
    throw bad(raw, `has an invalid path component "${wrong}" (lowercase letters, digits and . _ - only)`);
  return { text: value, host, prefix, loopback: isLoopback(hostname) };
}

/** The repository of one of replay-runner's images there: `host[:port]/prefix/name`. */
export function repositoryOf(address: RegistryAddress, name: string): string {
  return [address.host, address.prefix, name].filter((p) => p !== "").join("/");
}

/** The repository's path in the registry's HTTP API (`/v2/<path>/...`). */
export function repositoryPath(address: RegistryAddress, name: string): string {
  return [address.prefix, name].filter((p) => p !== "").join("/");
}
