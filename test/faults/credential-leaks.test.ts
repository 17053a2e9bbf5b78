/**
 * A registry password never leaves the process: not on stdout or stderr (errors, the serve
 * banner, --debug traces), not in manifest.json's `registry`, not in replay_runner.replays,
 * not in the API's answers. A real PostgreSQL role with a password, reached over TCP
 * (scram-sha-256 here), given the password in each form a URL can hold it.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import { type CliResult, runCli } from "../support/run-cli.js";
import { createPasswordRole, passwordRoleNames, type PasswordRole } from "../support/password-role.js";
import type { TestRegistry } from "../support/test-registry.js";
import { apiOf, startServe, waitForReplay } from "../server/serve-process.js";

const NAMES = passwordRoleNames("rr_leak");
const { role: ROLE, database: DATABASE, password: SECRET, tcp: TCP } = NAMES;

describe("registry passwords never reach output", () => {
  let pg: PasswordRole;
  let dir: string;
  let passfile: string;
  const env = (extra: Record<string, string> = {}) => ({
    REPLAY_HOME: path.join(dir, ".replay"),
    REPLAY_BLOBS: path.join(dir, "blobs"),
    // No password file of the user running the tests may answer for the role.
    PGPASSFILE: path.join(dir, "no-such-pgpass"),
    ...extra,
  });
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(args, { env: env(extra), cwd: dir });

  function expectNoSecret(result: CliResult): void {
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stderr).not.toContain(SECRET);
  }

  /** Everything replay-runner stored about replays, as text. */
  async function replaysTable(): Promise<string> {
    await using db = await pg.asRoot();
    const rows = await db.query<{ all: string | null }>(
      "SELECT json_agg(r)::text AS all FROM replay_runner.replays r",
    );
    return rows[0]?.all ?? "";
  }

  beforeAll(async () => {
    pg = await createPasswordRole(NAMES);
    dir = await mkdtemp(path.join(os.tmpdir(), "rr-leak-"));
    passfile = path.join(dir, "pgpass");
    await writeFile(passfile, `127.0.0.1:5432:${DATABASE}:${ROLE}:${SECRET}\n`);
    await chmod(passfile, 0o600);
    await using owner = await pg.asRole();
    const f = new RegistryFixture(owner, new BlobStore(path.join(dir, "blobs")));
    await f.artifact("raw", "a,b\n1,2\n");
    await f.step({ id: "s-raw", target: "raw", stepType: "ingest", inputHash: null });
    await f.artifact("copy", "a,b\n1,2\n");
    await f.step({ id: "s-copy", source: "raw", target: "copy", stepType: "fork" });
  });

  afterAll(async () => {
    await pg.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  // [name, URL, what manifest.json's `registry` and the messages show of it, extra environment]
  const connecting: [string, string, string, Record<string, string>][] = [
    [
      "userinfo",
      `postgres://${ROLE}:${SECRET}@${TCP}/${DATABASE}`,
      `postgres://${ROLE}:***@${TCP}/${DATABASE}`,
      {},
    ],
    [
      "password=",
      `postgres://${ROLE}@${TCP}/${DATABASE}?password=${SECRET}`,
      `postgres://${ROLE}@${TCP}/${DATABASE}?password=***`,
      {},
    ],
    [
      "password= beside sslpassword=",
      `postgresql://${TCP}/${DATABASE}?user=${ROLE}&sslpassword=${SECRET}&password=${SECRET}`,
      `postgresql://${TCP}/${DATABASE}?user=${ROLE}&sslpassword=***&password=***`,
      {},
    ],
    [
      "passfile=",
      `postgres://${ROLE}@${TCP}/${DATABASE}?passfile=PASSFILE`,
      `postgres://${ROLE}@${TCP}/${DATABASE}?passfile=PASSFILE`,
      {},
    ],
  ];

  it.each(connecting)(
    "%s: init, rerun, manifest.json and the replays row show the URL without its password",
    async (_name, rawUrl, rawShown, extra) => {
      const url = rawUrl.replace("PASSFILE", passfile);
      const shown = rawShown.replace("PASSFILE", passfile);
      const init = await cli(["init", "--db", url], extra);
      expectNoSecret(init);
      expect(init.code).toBe(0);
      expect(init.stdout).toContain(`Using the PostgreSQL registry ${shown}\n`);

      const out = path.join(dir, `out-${randomBytes(3).toString("hex")}`);
      const rerun = await cli(["rerun", "copy", "--out", out, "--debug"], { ...extra, DATABASE_URL: url });
      expectNoSecret(rerun);
      expect(rerun.code).toBe(0);
      const manifestText = await readFile(path.join(out, "manifest.json"), "utf8");
      expect(manifestText).not.toContain(SECRET);
      expect((JSON.parse(manifestText) as { registry: string }).registry).toBe(shown);
      const replays = await replaysTable();
      expect(replays).toContain((JSON.parse(manifestText) as { replay_id: string }).replay_id);
      expect(replays).not.toContain(SECRET);
    },
  );

  it("a password the server does not take (PASSWORD= is no libpq parameter): exit 3, still hidden", async () => {
    const url = `postgres://${ROLE}@${TCP}/${DATABASE}?PASSWORD=${SECRET}`;
    const result = await cli(["step-types", "--debug"], { DATABASE_URL: url });
    expectNoSecret(result);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: The PostgreSQL server at 127\\.0\\.0\\.1:5432 asks for a password for user "${ROLE}", and none was given\\.\n`,
      ),
    );
  });

  it("an unreachable server: the message shows the URL redacted, with --debug too", async () => {
    for (const url of [
      `postgres://${ROLE}:${SECRET}@127.0.0.1:1/${DATABASE}`,
      `postgres://${ROLE}@127.0.0.1:1/${DATABASE}?password=${SECRET}`,
    ]) {
      const result = await cli(["lineage", "copy", "--debug"], { DATABASE_URL: url });
      expectNoSecret(result);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(
        `error: Cannot reach the registry database ${url.replace(SECRET, "***")}: connect ECONNREFUSED 127.0.0.1:1\n`,
      );
    }
  });

  it("a wrong password: exit 3, the URL redacted", async () => {
    const url = `postgres://${ROLE}:wrong-${SECRET}@${TCP}/${DATABASE}`;
    const result = await cli(["show", "copy", "--debug"], { DATABASE_URL: url });
    expectNoSecret(result);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `error: Cannot reach the registry database postgres://${ROLE}:***@${TCP}/${DATABASE}: password authentication failed for user "${ROLE}"\n`,
    );
  });

  it("a URL --db refuses (a libpq key=value string, another scheme) is shown redacted", async () => {
    for (const [db, shown] of [
      [`host=127.0.0.1 user=${ROLE} password=${SECRET}`, `host=127.0.0.1 user=${ROLE} password=***`],
      [`mysql://${ROLE}:${SECRET}@127.0.0.1/x`, `mysql://${ROLE}:***@127.0.0.1/x`],
    ] as const) {
      const result = await cli(["step-types", "--db", db]);
      expectNoSecret(result);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `error: The registry URL "${shown}" must be a postgres:// or postgresql:// URL.\n`,
      );
    }
  });

  it("serve: the banner, GET /api/replays/:id, /api/artifacts/:id and the pages hold no password", async () => {
    const url = `postgres://${ROLE}@${TCP}/${DATABASE}?password=${SECRET}`;
    const shown = `postgres://${ROLE}@${TCP}/${DATABASE}?password=***`;
    const served = { dir, env: env({ DATABASE_URL: url }) } as unknown as TestRegistry;
    const server = await startServe(served);
    try {
      const api = apiOf(server.url);
      const started = await api.request("POST", "/api/artifacts/copy/rerun", { body: {} });
      expect(started.status).toBe(202);
      const replayId = String(started.json.replay_id);
      const finished = await waitForReplay(api, replayId, ["finished", "failed", "interrupted"]);
      expect(finished.status).toBe("finished");
      expect(finished.verdict).toBe("reproduced");
      const answers = [
        started.text,
        (await api.request("GET", `/api/replays/${replayId}`)).text,
        (await api.request("GET", "/api/artifacts/copy")).text,
        (await api.request("GET", `/replays/${replayId}`)).text,
        (await api.request("GET", "/artifacts/copy")).text,
      ];
      for (const text of answers) expect(text).not.toContain(SECRET);
      expect(answers[1]).toContain(JSON.stringify(shown));
      expect(server.output()).toContain(shown);
      expect(await replaysTable()).not.toContain(SECRET);
    } finally {
      await server.stop();
    }
    expect(server.output()).not.toContain(SECRET);
  });
});
