/**
 * Runs once before the suite. Tests use a real Docker engine, a real PostgreSQL and the
 * embedded registry; a missing service fails the run with the command that fixes it,
 * it never skips tests. `npm test` runs scripts/setup-host.sh first, so this only trips when
 * the suite is started some other way.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { initRegistry, openSqlClient } from "../src/db/index.js";
import { ADMIN_PG_URL, dockerAnswers } from "./support/services.js";

declare module "vitest" {
  export interface ProvidedContext {
    embeddedTemplate: string;
  }
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const problems: string[] = [];
  if (!dockerAnswers()) problems.push("Docker does not answer (`docker info` fails)");
  try {
    const admin = await openSqlClient({ databaseUrl: ADMIN_PG_URL, embeddedDir: "" });
    await admin.close();
  } catch (error) {
    problems.push(`PostgreSQL does not answer at ${ADMIN_PG_URL}: ${(error as Error).message}`);
  }
  if (problems.length > 0) {
    throw new Error(
      `The test suite needs a running Docker engine and PostgreSQL:\n- ${problems.join("\n- ")}\n` +
        "Run `bash scripts/setup-host.sh` (as root) to install and start them, then `npm test` again.",
    );
  }
  // An initialised PGlite folder, copied per test: initdb costs seconds, a copy milliseconds.
  const dir = await mkdtemp(path.join(os.tmpdir(), "rr-template-"));
  const template = path.join(dir, "registry");
  const client = await openSqlClient({ databaseUrl: null, embeddedDir: template, create: true });
  try {
    await initRegistry(client);
  } finally {
    await client.close();
  }
  project.provide("embeddedTemplate", template);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}

export async function copyTemplate(template: string, dest: string): Promise<void> {
  await cp(template, dest, { recursive: true });
}
