/** `npm run demo`, as a newcomer runs it: from a fresh folder, it must finish and say so. */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv } from "../support/run-cli.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function runDemo(cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // As `npm run demo` would: npm runs the script in the package folder with INIT_CWD set to where it was typed.
    const child = spawn("bash", [path.join(REPO, "scripts/demo.sh")], {
      cwd: REPO,
      env: { ...cliEnv(), INIT_CWD: cwd },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 290_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe("npm run demo", () => {
  let dir: string;
  let result: Awaited<ReturnType<typeof runDemo>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "rr-demo-"));
    result = await runDemo(dir);
  }, 300_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("exits 0 and says everything behaved as expected", () => {
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("Everything behaved as expected");
  });

  it("works in <where it was run>/.replay/demo on the embedded registry, and says so", async () => {
    const demo = path.join(dir, ".replay", "demo");
    expect(result.stdout).toContain(`Working in ${demo}`);
    expect((await stat(path.join(demo, ".replay", "registry", "PG_VERSION"))).isFile()).toBe(true);
    expect(await readFile(path.join(demo, "figure.svg"), "utf8")).toMatch(/^<svg /);
  });

  it("reproduces the figure and the citation, then shows the wall-clock step's mismatch and diff", () => {
    expect(result.stdout).toMatch(/REPRODUCED: 4 reproduced, 2 verified of 6 step\(s\)/);
    expect(result.stdout).toContain("the figure and its citation reproduce exactly");
    expect(result.stdout).toContain("NOT REPRODUCED");
    expect(result.stdout).toMatch(/first divergence: step-[0-9a-f]{12}/);
    expect(result.stdout).toMatch(/-Temperature report, generated /);
    expect(result.stdout).toMatch(/\+Temperature report, generated /);
    expect(result.stdout).toContain("exit status 1, as expected");
  });
});
