/**
 * Every installed package must run on Node 20, which our `engines` promises (issue 12, item 18:
 * `npm ci` warned EBADENGINE for cookie@2.0.2, `>=22`, pulled in by fastify).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "../..");
const CHECK = path.join(repoRoot, "scripts/check-engines.mjs");

async function check(folder: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [CHECK, folder]);
    return { code: 0, stdout };
  } catch (error) {
    const { code, stdout } = error as { code: number; stdout: string };
    return { code, stdout };
  }
}

async function writePackage(dir: string, manifest: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "package.json"), JSON.stringify(manifest));
}

describe("Node engines of installed packages", () => {
  let scratch: string | undefined;
  afterEach(async () => {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it("all accept Node 20 in this checkout's node_modules", async () => {
    expect(await check(repoRoot)).toEqual({ code: 0, stdout: "" });
  });

  it("names each package that shuts Node 20 out, nested and scoped ones too", async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), "rr-engines-"));
    await writePackage(scratch, { name: "app", engines: { node: ">=20" } });
    await writeFile(
      path.join(scratch, "package-lock.json"),
      JSON.stringify({ packages: { "node_modules/@dev/tool": { dev: true } } }),
    );
    const modules = path.join(scratch, "node_modules");
    await writePackage(path.join(modules, "fine"), {
      name: "fine",
      version: "1.0.0",
      engines: { node: ">=18" },
    });
    await writePackage(path.join(modules, "fine/node_modules/cookie"), {
      name: "cookie",
      version: "2.0.2",
      engines: { node: ">=22" },
    });
    // A dev tool may ask for a later Node 20 release; a runtime dependency may not.
    await writePackage(path.join(modules, "@dev/tool"), {
      name: "@dev/tool",
      version: "3.0.0",
      engines: { node: "^20.0.0 || >=22" },
    });
    await writePackage(path.join(modules, "@rt/lib"), {
      name: "@rt/lib",
      version: "0.1.0",
      engines: { node: "^20.19.0 || >=22" },
    });
    expect(await check(scratch)).toEqual({
      code: 1,
      stdout: [
        '@rt/lib@0.1.0 (node_modules/@rt/lib): engines.node "^20.19.0 || >=22" excludes Node 20.0.0, which app\'s engines.node ">=20" allows',
        'cookie@2.0.2 (node_modules/fine/node_modules/cookie): engines.node ">=22" excludes every Node 20 release',
        "",
      ].join("\n"),
    });
  });
});

describe("the cookie version pinned for Node 20", () => {
  it("is what fastify's inject uses to send cookies", async () => {
    // package.json overrides cookie (2.x needs Node 22) with 1.1.1; light-my-request calls its
    // stringifySetCookie({name, value}) for every injected cookie.
    const app = Fastify();
    app.get("/", (request) => ({ cookie: request.headers.cookie ?? null }));
    try {
      const reply = await app.inject({ url: "/", cookies: { a: "1", b: "x y" } });
      expect(reply.json()).toEqual({ cookie: "a=1; b=x%20y" });
    } finally {
      await app.close();
    }
  });
});
