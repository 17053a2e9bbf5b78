/**
 * pgpass (node-postgres' own reader of ~/.pgpass, which ships no types): the two functions
 * its entry point chains, used directly so that the file can be the URL's passfile=.
 */
declare module "pgpass/lib/helper.js" {
  import type { Stats } from "node:fs";
  import type { Readable } from "node:stream";

  interface PgpassHelper {
    /** false, with a warning on stderr, when the file is not a regular file or others may read it. */
    usePgPass(stats: Stats, fileName?: string): boolean;
    /** The password of the first line matching host, port, database and user, or undefined. */
    getPassword(
      connInfo: { host?: string; port?: number; database?: string; user?: string },
      stream: Readable,
      cb: (password: string | undefined) => void,
    ): void;
  }
  const helper: PgpassHelper;
  export = helper;
}
