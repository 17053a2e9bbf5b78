/**
 * node-postgres' connection settings for a registry URL, made to behave as libpq (psql) does
 * where node-postgres differs: the user name when none is given, and where a password comes
 * from when the server asks for one.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ClientConfig } from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import pgpass from "pgpass/lib/helper.js";
import { ReplayError } from "../errors/index.js";

/** What node-postgres passes to a password function: the parameters it connects with. */
interface ConnectionInfo {
  host?: string;
  port?: number;
  database?: string;
  user?: string;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** libpq takes the OS user's name; node-postgres takes $USER, and CI shells often have none. */
function osUserName(): string | undefined {
  try {
    return nonEmpty(os.userInfo().username);
  } catch {
    // A uid without a passwd entry (containers run as an arbitrary uid).
    return undefined;
  }
}

/** The password file libpq reads: the URL's passfile=, else $PGPASSFILE, else ~/.pgpass. */
function passwordFileOf(passfile: string | undefined, env: NodeJS.ProcessEnv): string {
  return passfile ?? nonEmpty(env.PGPASSFILE) ?? path.join(os.homedir(), ".pgpass");
}

/** The matching line's password, as libpq finds it (a file readable by others is ignored, with a warning). */
async function passwordFromFile(file: string, info: ConnectionInfo): Promise<string | undefined> {
  let stats;
  try {
    stats = await stat(file);
  } catch {
    return undefined;
  }
  if (!pgpass.usePgPass(stats, file)) return undefined;
  return new Promise((resolve) => {
    pgpass.getPassword(info, createReadStream(file), resolve);
  });
}

function passwordRequired(info: ConnectionInfo, file: string): ReplayError {
  const where =
    info.host?.startsWith("/") === true
      ? `socket ${info.host}`
      : `${info.host ?? "localhost"}:${info.port ?? 5432}`;
  return new ReplayError(
    "DATABASE_UNAVAILABLE",
    `The PostgreSQL server at ${where} asks for a password for user "${info.user ?? ""}", and none was given.`,
    {
      hint: `Give it in PGPASSWORD, in the password file ${file} (a line host:port:database:user:password, mode 0600; PGPASSFILE or the URL's passfile= names another file), or in the URL (postgres://user:password@host/db, percent-encoded).`,
      details: { host: info.host, port: info.port, user: info.user, passfile: file },
    },
  );
}

/**
 * The pool's connection settings for `url`: pg-connection-string's reading of it (what pg does
 * with a connectionString), then libpq's defaults for the user (URL, PGUSER, the OS user) and
 * the password (URL, PGPASSWORD, the password file), looked up only when the server asks.
 */
export function pgConnectionConfig(url: string, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const { user, password, passfile, ...rest } = parseIntoClientConfig(url) as ClientConfig & {
    passfile?: unknown;
  };
  const given = nonEmpty(password);
  const file = passwordFileOf(nonEmpty(passfile), env);
  return {
    ...rest,
    user: nonEmpty(user) ?? nonEmpty(env.PGUSER) ?? osUserName(),
    password:
      given ??
      (async (info?: ConnectionInfo) => {
        const connection = info ?? {};
        const found = nonEmpty(env.PGPASSWORD) ?? (await passwordFromFile(file, connection));
        if (found === undefined) throw passwordRequired(connection, file);
        return found;
      }),
  };
}
