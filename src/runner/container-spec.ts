/**
 * The create body of a step's container: everything the contract fixes about the sandbox
 * ("Container steps"), and the hardening around it. Pure data, so it is tested without an engine.
 */
import os from "node:os";
import path from "node:path";
import type { BindMount } from "./step-transport.js";
import type { StepVariation } from "./types.js";

/** The subset of the Engine API's create body that replay-runner sets (API 1.41). */
export interface ContainerCreateBody {
  Image: string;
  Cmd: string[];
  Entrypoint: string[];
  Env: string[];
  Hostname: string;
  User: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  NetworkDisabled: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  OpenStdin: boolean;
  Tty: boolean;
  HostConfig: {
    ReadonlyRootfs: boolean;
    CapDrop: string[];
    SecurityOpt: string[];
    PidsLimit: number;
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    /** Only for a triage variation (absent by default, so the default body is unchanged). */
    CpusetCpus?: string;
    IpcMode: string;
    Ulimits: { Name: string; Soft: number; Hard: number }[];
    Tmpfs: Record<string, string>;
    Mounts: (VolumeMount | HostBindMount)[];
    LogConfig: { Type: string; Config: Record<string, string> };
    Privileged: boolean;
    AutoRemove: boolean;
  };
}

interface VolumeMount {
  Type: "volume";
  Source: string;
  Target: string;
  VolumeOptions: {
    NoCopy: boolean;
    Labels: Record<string, string>;
    DriverConfig: { Name: string; Options: Record<string, string> };
  };
}

interface HostBindMount {
  Type: "bind";
  Source: string;
  Target: string;
  ReadOnly: boolean;
}

export interface ContainerSpecInput {
  image: string;
  command: string[];
  env: Record<string, string>;
  memoryBytes: number;
  maxOutputBytes: number;
  labels: Record<string, string>;
  /** CPUs the step may use; default: all of the host's (see DEFAULT_CPUS). */
  cpus?: number | undefined;
  /** Host folders mounted in place of the volume at their target (host-transport.ts). */
  binds?: BindMount[] | undefined;
  /** Triage's change to the sandbox; absent: the contract's view exactly. */
  variation?: StepVariation | undefined;
}

/** Where a variation's read-only host files appear: a folder of its own, never a step's path. */
export const VARIATION_MOUNT_ROOT = "/.replay-runner";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CPUSET = /^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$/;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const UMASK = /^0?[0-7]{3}$/;
const ARCH = /^[a-z0-9_]{1,16}$/;

/** A variation that would break the sandbox's shape is refused, not applied (a bug upstream). */
export class VariationRefused extends Error {}

function checkVariation(v: StepVariation): void {
  for (const [name, value] of Object.entries(v.env ?? {})) {
    if (!ENV_NAME.test(name) || value.includes("\0"))
      throw new VariationRefused(`variable ${JSON.stringify(name)} cannot be set`);
  }
  if (v.cpusetCpus !== undefined && !CPUSET.test(v.cpusetCpus))
    throw new VariationRefused(`cpuset ${JSON.stringify(v.cpusetCpus)} is not a CPU list`);
  if (v.hostname !== undefined && !HOSTNAME.test(v.hostname))
    throw new VariationRefused(`host name ${JSON.stringify(v.hostname)} is not a plain host name`);
  if (v.umask !== undefined && !UMASK.test(v.umask))
    throw new VariationRefused(`umask ${JSON.stringify(v.umask)} is not octal`);
  if (v.arch !== undefined && !ARCH.test(v.arch))
    throw new VariationRefused(`machine ${JSON.stringify(v.arch)} is not an architecture name`);
  for (const file of v.readOnlyFiles ?? []) {
    const target = path.posix.normalize(file.target);
    if (target !== file.target || !target.startsWith(`${VARIATION_MOUNT_ROOT}/`))
      throw new VariationRefused(
        `a variation mounts files under ${VARIATION_MOUNT_ROOT}/ only, not ${file.target}`,
      );
    if (!path.isAbsolute(file.source))
      throw new VariationRefused(`mount source ${JSON.stringify(file.source)} is not an absolute path`);
  }
}

/** The step's user and group: nobody/nogroup, as recorded. */
export const STEP_USER = "65534:65534";
/** Where inputs, code, output and scratch live. /in and /code are filled before start. */
export const VOLUME_TARGETS = ["/in", "/code", "/out", "/work"] as const;
export const PIDS_LIMIT = 256;
const TMPFS_MAX_BYTES = 1 << 30;
const OPEN_FILES = 4096;

/**
 * All the host's CPUs: a step runs as fast as under a plain `docker run`, and the orchestrator
 * bounds how many steps run at once. A number still bounds a runaway step to the machine.
 */
export const DEFAULT_CPUS = Math.max(1, os.availableParallelism());

export function containerSpec(input: ContainerSpecInput): ContainerCreateBody {
  const v = input.variation;
  if (v !== undefined) checkVariation(v);
  const env = v?.env === undefined ? input.env : { ...input.env, ...v.env };
  // The umask through the image's /bin/sh, the machine through its setarch: both exec, so the
  // recorded argv is the step's process.
  const withUmask =
    v?.umask === undefined
      ? input.command
      : ["/bin/sh", "-c", 'umask "$0" && exec "$@"', v.umask, ...input.command];
  const command = v?.arch === undefined ? withUmask : ["setarch", v.arch, ...withUmask];
  // /tmp is memory: tmpfs pages count against the container's memory limit anyway, the size
  // cap keeps one step from spending all of it there. Half the limit, not all of it: a step that
  // fills /tmp then gets ENOSPC (a clear error it can report) while its own process still fits,
  // instead of the OOM killer (test/faults/escape-attempts.test.ts). exec stays allowed.
  const tmpfsBytes = Math.min(Math.floor(input.memoryBytes / 2), TMPFS_MAX_BYTES);
  // A file may grow one byte past the output limit: the output parser then reports "too large"
  // instead of the step dying of SIGXFSZ at exactly the limit.
  const fileSizeLimit = input.maxOutputBytes + 1;
  const volumeLabels = input.labels;
  return {
    Image: input.image,
    Cmd: command,
    // An empty (not absent) entrypoint: the recorded argv runs as is, whatever the image says.
    Entrypoint: [],
    // Exactly the step's variables; the engine adds only HOSTNAME (allowed by the contract).
    Env: Object.entries(env).map(([k, value]) => `${k}=${value}`),
    Hostname: v?.hostname ?? "replay",
    User: STEP_USER,
    WorkingDir: "/work",
    Labels: input.labels,
    // Faster than NetworkMode "none" and the same isolation: a namespace with only `lo`.
    NetworkDisabled: true,
    AttachStdin: false,
    // stderr is attached (for the tail in failure reports); stdout is not kept anywhere.
    AttachStdout: false,
    AttachStderr: true,
    OpenStdin: false,
    Tty: false,
    HostConfig: {
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      PidsLimit: PIDS_LIMIT,
      Memory: input.memoryBytes,
      // Equal to Memory: no swap.
      MemorySwap: input.memoryBytes,
      NanoCpus: Math.round((input.cpus ?? DEFAULT_CPUS) * 1e9),
      ...(v?.cpusetCpus === undefined ? {} : { CpusetCpus: v.cpusetCpus }),
      IpcMode: "private",
      Ulimits: [
        { Name: "nofile", Soft: OPEN_FILES, Hard: OPEN_FILES },
        { Name: "fsize", Soft: fileSizeLimit, Hard: fileSizeLimit },
        { Name: "core", Soft: 0, Hard: 0 },
      ],
      Tmpfs: { "/tmp": `rw,nosuid,nodev,size=${tmpfsBytes},mode=1777` },
      // Anonymous volumes, filled by putArchive before start (a read-only root filesystem refuses
      // archives, a tmpfs hides them); each copies up the owner and mode of the image's directory.
      // A bind mount of a staged host folder takes a volume's place when there is one.
      Mounts: [
        ...VOLUME_TARGETS.map((target) => {
          const bind = input.binds?.find((b) => b.target === target);
          if (bind !== undefined) {
            return { Type: "bind" as const, Source: bind.source, Target: target, ReadOnly: bind.readOnly };
          }
          return {
            Type: "volume" as const,
            // No source: an anonymous volume, removed with the container (remove ?v=1).
            Source: "",
            Target: target,
            // NoCopy false: the copy-up of the image's directory owner and mode is what we rely on.
            VolumeOptions: {
              NoCopy: false,
              Labels: volumeLabels,
              DriverConfig: { Name: "local", Options: {} },
            },
          };
        }),
        ...(v?.readOnlyFiles ?? []).map((f) => ({
          Type: "bind" as const,
          Source: f.source,
          Target: f.target,
          ReadOnly: true,
        })),
      ],
      // Logs would store the step's stdout on the host's disk for nothing.
      LogConfig: { Type: "none", Config: {} },
      Privileged: false,
      // The output is read after exit; the runner removes the container itself.
      AutoRemove: false,
    },
  };
}
