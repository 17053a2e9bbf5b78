/** Runs the built CLI (dist/bin/cli.js) as a user would, and returns what it printed and its exit code. */
import { spawn } from "node:child_process";
import { access } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { assertValidManifest, readManifest } from "./manifest-schema.js";

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/bin/cli.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The CLI process's pid: its containers and volumes carry it as a label. */
  pid: number | undefined;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Do not inherit DATABASE_URL & co from the test process. */
  cleanEnv?: boolean;
  input?: string;
  timeoutMs?: number;
  /** Called once the process exists (tests that signal it, or wait for its lock). */
  onSpawn?: (pid: number | undefined) => void;
  /** Run under `umask <mask>` (a shell sets it, then execs node). */
  umask?: string;
}

const CONFIG_VARS = [
  "DATABASE_URL",
  "REPLAY_HOME",
  "REPLAY_BLOBS",
  "REPLAY_WHEELHOUSE",
  "REPLAY_PIP_INDEX_URL",
  "REPLAY_API_TOKEN",
  "REPLAY_MAX_OUTPUT_BYTES",
  "REPLAY_IMAGE_REGISTRY",
  "REPLAY_IMAGE_REGISTRY_INSECURE",
  "REPLAY_PULL",
  "REPLAY_DIFF_IMAGE",
  "REPLAY_DIFF_TIMEOUT_S",
];

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const merged: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  for (const name of CONFIG_VARS) merged[name] = undefined;
  Object.assign(merged, extra);
  return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = [CLI, ...args];
    const [file, fileArgs] =
      options.umask === undefined
        ? [process.execPath, argv]
        : ["sh", ["-c", `umask ${options.umask} && exec "$0" "$@"`, process.execPath, ...argv]];
    const child = spawn(file, fileArgs, {
      cwd: options.cwd ?? process.cwd(),
      env: cliEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 300_000,
    });
    options.onSpawn?.(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const result = { code, signal, stdout, stderr, pid: child.pid };
      checkReplayOutput(args, result, options.cwd ?? process.cwd()).then(
        () => {
          resolve(result);
        },
        (error: unknown) => {
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
    child.stdin.end(options.input ?? "");
  });
}

/**
 * stderr without the line a replay prints when it swept what dead processes left on this host:
 * test files run in parallel and some kill CLIs on purpose, so any replay may sweep their
 * leftovers. Everything else the replay says is kept.
 */
export function ownStderr(stderr: string): string {
  return stderr.replace(
    /^removed \d+ container\(s\), \d+ volume\(s\) and \d+ staging folder\(s\) left by runs that no longer exist\n/m,
    "",
  );
}

/**
 * A `rerun` that wrote a manifest: the manifest (file and --json output) must validate against
 * the published schema (test/support/manifest-schema.ts), wherever the test put it.
 */
async function checkReplayOutput(args: string[], result: CliResult, cwd: string): Promise<void> {
  if (args[0] !== "rerun" || args.includes("--dry-run") || (result.code !== 0 && result.code !== 1)) return;
  if (args.includes("--json")) assertValidManifest(JSON.parse(result.stdout), "rerun --json's output");
  const at = args.indexOf("--out");
  const named = /^manifest: (.+)$/m.exec(result.stdout)?.[1];
  const dir =
    at >= 0 && args[at + 1] !== undefined
      ? path.resolve(cwd, args[at + 1]!)
      : named === undefined
        ? undefined
        : path.dirname(path.resolve(cwd, named));
  if (dir === undefined) return;
  const present = await access(path.join(dir, "manifest.json")).then(
    () => true,
    () => false,
  );
  if (present) await readManifest(dir);
}
