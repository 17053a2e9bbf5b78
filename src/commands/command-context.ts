/** What every command needs: settings from flags and environment, and an open registry. */
import type { Command } from "commander";
import { resolveSettings, type Settings } from "../config/index.js";
import { migrate, openSqlClient, type SqlClient } from "../db/index.js";

export interface GlobalOptions {
  db?: string;
  blobs?: string;
  home?: string;
  imageRegistry?: string;
  pull?: string;
  debug?: boolean;
}

export function settingsOf(command: Command): Settings {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return resolveSettings({
    db: opts.db,
    blobs: opts.blobs,
    home: opts.home,
    imageRegistry: opts.imageRegistry,
    pull: opts.pull,
  });
}

export interface RegistryAccess {
  /** Create the embedded data folder when missing (init and the record commands). */
  create?: boolean;
  /** Bring replay-runner's own schema up to date first (commands that write it). */
  migrate?: boolean;
}

export async function withRegistry<T>(
  settings: Settings,
  access: RegistryAccess,
  work: (client: SqlClient) => Promise<T>,
): Promise<T> {
  return useRegistry(openRegistry(settings, access), work);
}

/**
 * Starts opening the registry; hand the promise to useRegistry, which closes the client. For a
 * command that has other start-up work to overlap with the opening (rerun loads the engine's
 * client meanwhile).
 */
export function openRegistry(settings: Settings, access: RegistryAccess): Promise<SqlClient> {
  const opening = (async () => {
    const client = await openSqlClient({
      databaseUrl: settings.databaseUrl,
      embeddedDir: settings.embeddedDir,
      create: access.create ?? false,
    });
    try {
      if (access.migrate === true) await migrate(client);
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  })();
  opening.catch(() => undefined); // useRegistry reports it
  return opening;
}

export async function useRegistry<T>(
  opening: Promise<SqlClient>,
  work: (client: SqlClient) => Promise<T>,
): Promise<T> {
  const client = await opening;
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
