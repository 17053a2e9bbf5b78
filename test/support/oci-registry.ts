/**
 * A real OCI registry for tests: Debian's `docker-registry` serving on 127.0.0.1, on a free port,
 * with a config and a storage folder of its own (never the packaged config, which listens on
 * every interface). Stop and start it again to stand for a registry that goes away.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const INSTALL_REGISTRY = "sudo bash scripts/setup-host.sh oci-registry";

export interface TestOciRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** REPLAY_IMAGE_REGISTRY for tests: `127.0.0.1:PORT/<prefix>`. */
  address(prefix: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/usr/sbin"])) {
    const file = path.join(dir, command);
    if (dir !== "" && existsSync(file)) return file;
  }
  return undefined;
}

export function requireBinary(command: string, install: string): string {
  const file = onPath(command);
  if (file === undefined)
    throw new Error(`${command} is not installed: run \`${install}\`, then the tests again`);
  return file;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === "object" && address !== null) resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    // 401: it answers, and wants credentials.
    return response.status === 200 || response.status === 401;
  } catch {
    return false;
  }
}

async function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([
    new Promise<boolean>((resolve) =>
      child.once("exit", () => {
        resolve(true);
      }),
    ),
    sleep(ms).then(() => false),
  ]);
}

export interface OciRegistryOptions {
  /** Basic authentication (htpasswd, bcrypt made by the host's python3) with this one user. */
  user?: { name: string; password: string } | undefined;
}

export async function startOciRegistry(options: OciRegistryOptions = {}): Promise<TestOciRegistry> {
  const binary = requireBinary("docker-registry", INSTALL_REGISTRY);
  const dir = await mkdtemp(path.join(os.tmpdir(), "rr-oci-"));
  const auth: string[] = [];
  if (options.user !== undefined) {
    const htpasswd = path.join(dir, "htpasswd");
    const hash = execFileSync(
      "python3",
      [
        "-W",
        "ignore",
        "-c",
        "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
        options.user.password,
      ],
      { encoding: "utf8" },
    ).trim();
    await writeFile(htpasswd, `${options.user.name}:${hash}\n`);
    auth.push("auth:", "  htpasswd:", "    realm: replay-runner-tests", `    path: ${htpasswd}`);
  }
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(dir, "storage")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${host}`,
      ...auth,
      "",
    ].join("\n"),
  );
  let child: ChildProcess | undefined;
  let output = "";
  const start = async () => {
    const started = spawn(binary, ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    started.stdout.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    started.stderr.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    for (let i = 0; i < 100; i++) {
      if (await answers(`http://${host}/v2/`)) return;
      if (started.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`docker-registry did not answer on ${host}:\n${output}`);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    running.kill("SIGKILL");
    await exited(running, 10_000);
  };
  await start();
  return {
    host,
    address: (prefix) => `${host}/${prefix}`,
    stop,
    start,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
