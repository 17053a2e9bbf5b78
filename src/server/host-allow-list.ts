/**
 * The `Host` names the server answers. A page of any site can make a browser send requests to
 * a server on the reader's loopback or network (and, by DNS rebinding, read the answers: the
 * attacker's name resolves to 127.0.0.1, the browser thinks it talks to the attacker's site).
 * Such a request carries the attacker's name in `Host`; answering only the names the server
 * is really reached by defeats it.
 *
 * Answered: `localhost`, `127.0.0.1` and `[::1]` with the server's port; the bound address with
 * the port when it is not a wildcard; for a wildcard bind (0.0.0.0, ::) also this machine's
 * interface addresses with the port (an address is never an attacker's name); and every name of
 * `--allowed-host` / REPLAY_ALLOWED_HOSTS (`name` for any port, `name:port` for that port only:
 * what clients type, e.g. the name of a proxy in front of the server).
 */
import os from "node:os";
import { ReplayError } from "../errors/index.js";

export interface HostAllowList {
  /** True when a request with this `Host` header is answered. */
  allows(hostHeader: string | undefined): boolean;
  /** The names answered, for the start-up line and error messages. */
  describe(): string[];
}

interface HostName {
  /** Lowercase; IPv6 in brackets. */
  name: string;
  /** Undefined: any port. */
  port: number | undefined;
}

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", ""]);

export function isWildcard(address: string): boolean {
  return WILDCARDS.has(address);
}

function bracketed(address: string): string {
  return address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
}

/** `name`, `name:port`, `[v6]` or `[v6]:port`, lowercase; undefined when it is none of these. */
export function parseHost(text: string): HostName | undefined {
  const value = text.trim().toLowerCase();
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/.exec(value);
  if (match?.[1] === undefined) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name: match[1], port };
}

/** Parses `--allowed-host` / REPLAY_ALLOWED_HOSTS entries (comma-separated); a bad one is a usage error. */
export function parseAllowedHosts(entries: readonly string[]): HostName[] {
  return entries
    .flatMap((entry) => entry.split(","))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const parsed = parseHost(entry);
      if (parsed === undefined) {
        throw new ReplayError(
          "USAGE",
          `--allowed-host ${JSON.stringify(entry)} is not a host name: give a name or address, optionally with :port (no scheme, no path).`,
          { hint: "e.g. --allowed-host replay.example.org or --allowed-host 10.0.0.5:8080" },
        );
      }
      return parsed;
    });
}

function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => i.address.replace(/%.*$/, "")); // no zone ids: a Host header cannot carry one
}

export function hostAllowList(options: {
  bind: string;
  /** The listening port; a function, since with --port 0 it is known only once listening. */
  port: () => number;
  extra: readonly HostName[];
  /** For tests; default: this machine's interface addresses. */
  addresses?: () => string[];
}): HostAllowList {
  const bound = isWildcard(options.bind)
    ? (options.addresses ?? interfaceAddresses)().map((a) => bracketed(a.toLowerCase()))
    : [bracketed(options.bind.toLowerCase())];
  const own = ["localhost", "127.0.0.1", "[::1]", ...bound];
  const namesNow = (): HostName[] => [
    ...own.map((name) => ({ name, port: options.port() })),
    ...options.extra,
  ];
  return {
    allows(hostHeader) {
      if (hostHeader === undefined) return false;
      const host = parseHost(hostHeader);
      if (host === undefined) return false;
      // No port in Host means the scheme's default.
      const given = host.port ?? 80;
      return namesNow().some((n) => n.name === host.name && (n.port === undefined || n.port === given));
    },
    describe() {
      return [...new Set(namesNow().map((n) => (n.port === undefined ? n.name : `${n.name}:${n.port}`)))];
    },
  };
}
