/**
 * Registry credentials, read the way Docker's own tools read them: `$DOCKER_CONFIG/config.json`
 * (default `~/.docker/config.json`): `credHelpers[host]`, else `credsStore`, run as
 * `docker-credential-<name> get` with the host on stdin; else `auths[host]` (`auth` is
 * base64 `user:password`, or `identitytoken`). Never from the command line or the environment,
 * so they are not in `ps`, shell history or a CI log.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { ReplayError, messageOf } from "../errors/index.js";
import type { RegistryAuthConfig } from "../runner/index.js";

const authEntrySchema = z
  .object({
    auth: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    identitytoken: z.string().optional(),
    registrytoken: z.string().optional(),
  })
  .loose();

const configSchema = z
  .object({
    auths: z.record(z.string(), authEntrySchema).optional(),
    credsStore: z.string().optional(),
    credHelpers: z.record(z.string(), z.string()).optional(),
  })
  .loose();

const helperAnswerSchema = z.object({ Username: z.string(), Secret: z.string() }).loose();

export interface CredentialsOptions {
  env?: NodeJS.ProcessEnv | undefined;
  homedir?: string | undefined;
}

export function dockerConfigFile(options: CredentialsOptions = {}): string {
  const env = options.env ?? process.env;
  const dir =
    env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== ""
      ? env.DOCKER_CONFIG
      : path.join(options.homedir ?? os.homedir(), ".docker");
  return path.join(dir, "config.json");
}

/** `https://host:port/v1/` and `host:port` name the same registry in `auths` (Docker's ConvertToHostname). */
function hostOfKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").split("/")[0] ?? "";
}

function fromEntry(host: string, entry: z.infer<typeof authEntrySchema>): RegistryAuthConfig {
  let { username, password } = entry;
  if (entry.auth !== undefined && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  return {
    username,
    password,
    identitytoken: entry.identitytoken,
    registrytoken: entry.registrytoken,
    serveraddress: host,
  };
}

function runHelper(helper: string, host: string): Promise<RegistryAuthConfig> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    // argv, no shell; the helper's answer is bounded and parsed, never printed.
    const child = execFile(program, ["get"], { timeout: 15_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error !== null) {
        reject(
          new ReplayError(
            "IMAGE_REGISTRY",
            `The credential helper ${program} gave no credentials for ${host}.`,
            {
              hint: `Check \`echo ${host} | ${program} get\` and the credHelpers/credsStore of ${dockerConfigFile()}.`,
              cause: error,
            },
          ),
        );
        return;
      }
      const parsed = helperAnswerSchema.safeParse(
        (() => {
          try {
            return JSON.parse(stdout) as unknown;
          } catch {
            return null;
          }
        })(),
      );
      if (!parsed.success) {
        reject(
          new ReplayError(
            "IMAGE_REGISTRY",
            `The credential helper ${program} answered something that is not credentials.`,
          ),
        );
        return;
      }
      const { Username, Secret } = parsed.data;
      // Docker's convention: the user name "<token>" means Secret is an identity token.
      resolve(
        Username === "<token>"
          ? { identitytoken: Secret, serveraddress: host }
          : { username: Username, password: Secret, serveraddress: host },
      );
    });
    child.stdin?.end(host);
  });
}

/** The credentials for `host` (`host[:port]`); `{}` when the config names none. */
export async function registryCredentials(
  host: string,
  options: CredentialsOptions = {},
): Promise<RegistryAuthConfig> {
  const file = dockerConfigFile(options);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ReplayError(
      "IMAGE_REGISTRY",
      `Cannot read Docker's client configuration ${file}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReplayError("IMAGE_REGISTRY", `Docker's client configuration ${file} is not valid JSON.`, {
      hint: "Fix it (docker login rewrites it), or point DOCKER_CONFIG at another folder.",
      cause: error,
    });
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    throw new ReplayError(
      "IMAGE_REGISTRY",
      `Docker's client configuration ${file} is malformed (${parsed.error.issues[0]?.message ?? "bad shape"}).`,
      {
        hint: "Fix it (docker login rewrites it), or point DOCKER_CONFIG at another folder.",
      },
    );
  }
  const config = parsed.data;
  const helper = config.credHelpers?.[host];
  if (helper !== undefined && helper !== "") return runHelper(helper, host);
  const entries = Object.entries(config.auths ?? {});
  const entry = entries.find(([key]) => key === host) ?? entries.find(([key]) => hostOfKey(key) === host);
  if (
    config.credsStore !== undefined &&
    config.credsStore !== "" &&
    (entry === undefined || isEmpty(entry[1]))
  ) {
    // A store holds what `docker login` saved; an entry without secrets only says one exists.
    return runHelper(config.credsStore, host).catch(() => ({}));
  }
  if (entry === undefined) return {};
  return fromEntry(host, entry[1]);
}

function isEmpty(entry: z.infer<typeof authEntrySchema>): boolean {
  return [entry.auth, entry.username, entry.password, entry.identitytoken].every(
    (v) => v === undefined || v === "",
  );
}
