/**
 * A second Docker engine on this machine, standing for another CI runner: its own data root,
 * exec root (so its own containerd), socket and pidfile, and no iptables rules. It starts with
 * no images at all.
 *
 * Not `--bridge=none`: with it, dockerd deletes the host's `docker0` at start-up (libnetwork's
 * removeDefaultBridgeInterface), which takes the bridge network from the main engine under
 * every other process on this machine. The second engine gets a bridge device of its own,
 * created here and deleted after it (its steps and builds never use a network anyway).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { requireBinary } from "./oci-registry.js";

const run = promisify(execFile);

export interface SecondEngine {
  /** DOCKER_HOST for it: unix:///.../docker.sock */
  dockerHost: string;
  /** Runs the docker CLI against it. */
  docker(args: string[], options?: { input?: string }): Promise<string>;
  /** Copies an image of the main engine into this one (`docker save | docker load`). */
  seed(ref: string): Promise<void>;
  dispose(): Promise<void>;
}

export async function startSecondEngine(): Promise<SecondEngine> {
  const dockerd = requireBinary("dockerd", "sudo bash scripts/setup-host.sh docker");
  const ip = requireBinary("ip", "sudo apt-get install iproute2");
  // A device name has at most 15 characters.
  const bridge = `rrb${randomBytes(5).toString("hex")}`;
  await run(ip, ["link", "add", bridge, "type", "bridge"]);
  // Short: a unix socket path must stay under 108 bytes.
  const dir = await mkdtemp(path.join(os.tmpdir(), "rr-eng-"));
  const socket = path.join(dir, "docker.sock");
  const dockerHost = `unix://${socket}`;
  const log = await open(path.join(dir, "dockerd.log"), "a");
  const child: ChildProcess = spawn(
    dockerd,
    [
      "--data-root",
      path.join(dir, "data"),
      "--exec-root",
      path.join(dir, "exec"),
      "-H",
      dockerHost,
      "--pidfile",
      path.join(dir, "docker.pid"),
      `--bridge=${bridge}`,
      "--iptables=false",
      "--ip-masq=false",
    ],
    { stdio: ["ignore", log.fd, log.fd] },
  );
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  const docker = async (args: string[]) => (await run("docker", args, { env, maxBuffer: 64 << 20 })).stdout;
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) =>
        child.once("exit", () => {
          resolve();
        }),
      );
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(30_000).then(() => child.kill("SIGKILL"))]);
    }
    await log.close();
    await run(ip, ["link", "del", bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let up = false;
    for (let i = 0; i < 120 && !up; i++) {
      up = await docker(["info", "--format", "{{.ServerVersion}}"]).then(
        () => true,
        () => false,
      );
      if (!up) await sleep(250);
      if (child.exitCode !== null) break;
    }
    if (!up) throw new Error(`the second dockerd did not start (log: ${path.join(dir, "dockerd.log")})`);
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    dockerHost,
    docker,
    async seed(ref) {
      await new Promise<void>((resolve, reject) => {
        const save = spawn("docker", ["save", ref], { stdio: ["ignore", "pipe", "inherit"] });
        const load = spawn("docker", ["load", "-q"], { env, stdio: ["pipe", "ignore", "inherit"] });
        save.stdout.pipe(load.stdin);
        load.on("exit", (code) => {
          if (code === 0) resolve();
          else reject(new Error(`docker load exited ${String(code)}`));
        });
        save.on("error", reject);
        load.on("error", reject);
      });
    },
    dispose,
  };
}
