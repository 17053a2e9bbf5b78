/**
 * A registry URL connects as psql would connect with it: without a user name anywhere, as the
 * OS user (not $USER, which CI shells and containers often lack); without a password in the
 * URL, with PGPASSWORD or a password file; and a server that wants a password nobody gave is
 * exit 3 saying where to give one. Runs the built CLI (`npm run build` first).
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";
import { createPasswordRole, passwordRoleNames, type PasswordRole } from "../support/password-role.js";

const NAMES = passwordRoleNames("rr_libpq");
const { role: ROLE, database: DATABASE, password: PASSWORD, tcp: TCP } = NAMES;
const TCP_URL = `postgres://${ROLE}@${TCP}/${DATABASE}`;
const HEADER = "step_type  count  handled\n";

describe("libpq's connection defaults", () => {
  let pg: PasswordRole;
  let dir: string;
  /** The environment of a shell with no user name and no password anywhere but `extra`. */
  const bare = (extra: Record<string, string> = {}) => ({
    USER: undefined,
    LOGNAME: undefined,
    PGUSER: undefined,
    PGPASSWORD: undefined,
    PGPASSFILE: undefined,
    HOME: dir, // a home without .pgpass unless a test writes one
    REPLAY_HOME: path.join(dir, ".replay"),
    ...extra,
  });
  const stepTypes = (url: string, extra: Record<string, string> = {}) =>
    runCli(["step-types", "--db", url], { env: bare(extra), cwd: dir });

  async function passwordFile(name: string, line: string, mode: number): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, `# host:port:database:user:password\n${line}\n`);
    await chmod(file, mode);
    return file;
  }

  beforeAll(async () => {
    pg = await createPasswordRole(NAMES);
    dir = await mkdtemp(path.join(os.tmpdir(), "rr-libpq-"));
  });

  afterAll(async () => {
    await pg.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("a URL naming no user connects as the OS user when USER and LOGNAME are unset", async () => {
    const result = await stepTypes(`postgresql:///${DATABASE}?host=/var/run/postgresql`);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(HEADER);
    // Peer authentication let in the OS user (root here): that is who connected.
    expect(os.userInfo().username).toBe("root");
  });

  it("PGUSER comes before the OS user", async () => {
    const result = await stepTypes(`postgresql:///${DATABASE}?host=/var/run/postgresql`, {
      PGUSER: "rr_no_such_role",
    });
    expect(result.code).toBe(3);
    // The socket's peer authentication refuses a name that is not the OS user's.
    expect(result.stderr).toContain('Peer authentication failed for user "rr_no_such_role"');
  });

  it("a server that wants a password nobody gave: exit 3, saying where a password goes", async () => {
    const result = await stepTypes(TCP_URL);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `error: The PostgreSQL server at 127.0.0.1:5432 asks for a password for user "${ROLE}", and none was given.\n` +
        `hint: Give it in PGPASSWORD, in the password file ${path.join(dir, ".pgpass")} (a line host:port:database:user:password, mode 0600; PGPASSFILE or the URL's passfile= names another file), or in the URL (postgres://user:password@host/db, percent-encoded).\n`,
    );
  });

  it("PGPASSWORD gives it", async () => {
    const result = await stepTypes(TCP_URL, { PGPASSWORD: PASSWORD });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(HEADER);
  });

  it("~/.pgpass, PGPASSFILE and the URL's passfile= give it (mode 0600)", async () => {
    const line = `127.0.0.1:5432:${DATABASE}:${ROLE}:${PASSWORD}`;
    await passwordFile(".pgpass", `127.0.0.1:5432:other_db:${ROLE}:wrong\n${line}`, 0o600);
    const home = await stepTypes(TCP_URL);
    expect(home.stderr).toBe("");
    expect(home.code).toBe(0);
    await rm(path.join(dir, ".pgpass"));

    const named = await passwordFile("named-pgpass", `*:*:*:${ROLE}:${PASSWORD}`, 0o600);
    const fromEnv = await stepTypes(TCP_URL, { PGPASSFILE: named });
    expect(fromEnv.stderr).toBe("");
    expect(fromEnv.code).toBe(0);
    const fromUrl = await stepTypes(`${TCP_URL}?passfile=${encodeURIComponent(named)}`);
    expect(fromUrl.stderr).toBe("");
    expect(fromUrl.code).toBe(0);
    expect(fromUrl.stdout).toBe(HEADER);
  });

  it("a password file others can read is ignored, with libpq's warning", async () => {
    const open = await passwordFile("open-pgpass", `*:*:*:${ROLE}:${PASSWORD}`, 0o644);
    const result = await stepTypes(TCP_URL, { PGPASSFILE: open });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `WARNING: password file "${open}" has group or world access; permissions should be u=rw (0600) or less`,
    );
    expect(result.stderr).toContain(`asks for a password for user "${ROLE}", and none was given.`);
    expect(result.stderr).not.toContain(PASSWORD);
  });
});
