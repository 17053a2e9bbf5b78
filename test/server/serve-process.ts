/** `node dist/bin/cli.js serve` as a child process on a free port, as production runs it. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { CLI, cliEnv } from "../support/run-cli.js";
import type { TestRegistry } from "../support/test-registry.js";

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for the exit (a graceful shutdown). */
  stop(): Promise<number | null>;
  /** SIGKILL: the process gets no chance to clean up. */
  kill(): Promise<void>;
}

export interface ServeArgs {
  /** More arguments of `serve` (after `--port 0`). */
  args?: string[];
  /** Instead of the CLI: node runs these (a fixture under vite-node, say). */
  argv?: string[];
}

export async function startServe(
  registry: TestRegistry,
  env: Record<string, string | undefined> = {},
  options: ServeArgs = {},
): Promise<ServeProcess> {
  const argv = options.argv ?? [CLI, "serve", "--port", "0", ...(options.args ?? [])];
  const child = spawn(process.execPath, argv, {
    cwd: registry.dir,
    env: cliEnv({ ...registry.env, ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`serve did not start in 60 s:\n${stderr}`));
    }, 60_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${stderr}`));
    });
  });
  return {
    url,
    child,
    output: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const code = await exited;
      clearTimeout(timer);
      if (code === null) throw new Error(`serve did not stop within 30 s of SIGTERM:\n${stderr}`);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Container ids (any state) of one replay, by the label the runner puts on them. */
export function containersOf(replayId: string): string[] {
  const out = execFileSync("docker", ["ps", "-aq", "--filter", `label=org.replay-runner.run=${replayId}`], {
    encoding: "utf8",
  });
  return out.split("\n").filter((l) => l.trim() !== "");
}

export interface Api {
  request(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; type: string; json: Record<string, unknown>; text: string; headers: Headers }>;
}

export function apiOf(baseUrl: string, token?: string): Api {
  return {
    async request(method, path, options = {}) {
      const headers: Record<string, string> = {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...options.headers,
      };
      if (options.body !== undefined) headers["content-type"] ??= "application/json";
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body:
          options.body === undefined
            ? undefined
            : typeof options.body === "string"
              ? options.body
              : JSON.stringify(options.body),
      });
      const text = await response.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // not JSON (pages, diffs)
      }
      return {
        status: response.status,
        type: response.headers.get("content-type") ?? "",
        json,
        text,
        headers: response.headers,
      };
    },
  };
}

/** A served replay's status (src/server/replay-store.ts): typed, so that a stale name cannot wait forever. */
export type ReplayStatus = "queued" | "running" | "finished" | "interrupted" | "failed";

/** Polls GET /api/replays/:id until the status is one of `until`. */
export async function waitForReplay(
  api: Api,
  replayId: string,
  until: readonly ReplayStatus[],
  timeoutMs = 120_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    const r = await api.request("GET", `/api/replays/${replayId}`);
    last = r.json;
    if ((until as readonly unknown[]).includes(last.status)) return last;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(
    `replay ${replayId} did not reach ${until.join("/")} in time; last: ${JSON.stringify(last)}`,
  );
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}
