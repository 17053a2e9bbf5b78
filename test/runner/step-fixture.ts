/** A real engine, an executor, and a helper that runs a python (or argv) step with the contract's env. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { BASE_IMAGE } from "../../src/images/index.js";
import {
  DockerStepExecutor,
  StagingRoot,
  bytesSource,
  connectDockerEngine,
  type ContainerStepRequest,
  type ContainerStepResult,
  type PayloadSource,
} from "../../src/runner/index.js";

export const CONTRACT_ENV: Record<string, string> = {
  HOME: "/work",
  TZ: "UTC",
  LANG: "C.UTF-8",
  LC_ALL: "C.UTF-8",
  PYTHONHASHSEED: "0",
  PYTHONDONTWRITEBYTECODE: "1",
  SOURCE_DATE_EPOCH: "1700000000",
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
};

export const engine = connectDockerEngine();

/** The two ways files get in and out (src/runner/step-transport.ts); the sandbox must not differ. */
export type Transport = "host-mounts" | "archives";
export const TRANSPORTS: Transport[] = ["host-mounts", "archives"];

const staging = new StagingRoot(path.join(os.tmpdir(), "rr-test-staging"));
afterAll(() => staging.dispose());

export const executors: Record<Transport, DockerStepExecutor> = {
  "host-mounts": new DockerStepExecutor({ engine, staging }),
  archives: new DockerStepExecutor({ engine }),
};

export interface StepRun {
  result: ContainerStepResult;
  /** The bytes of /out/output, or null when the step produced none. */
  output: Buffer | null;
}

let counter = 0;

type StepOverrides = Partial<ContainerStepRequest> & { inputs?: PayloadSource[] };

/** A python step with the contract's environment: /in/source "a,b\n1,2\n", params null. */
export function pythonStep(
  code: string,
  outputFile: string,
  overrides: StepOverrides = {},
): ContainerStepRequest {
  return {
    stepId: `step-${process.pid}-${++counter}`,
    runId: `test-${process.pid}`,
    image: BASE_IMAGE,
    command: ["python3", "/code/main.py"],
    inputs: [bytesSource("source", Buffer.from("a,b\n1,2\n"))],
    params: Buffer.from("null"),
    code: bytesSource("main.py", Buffer.from(code)),
    env: CONTRACT_ENV,
    timeoutMs: 60_000,
    memoryBytes: 256 * 2 ** 20,
    outputFile,
    maxOutputBytes: 64 * 2 ** 20,
    ...overrides,
  };
}

/** A step writing 1 GiB of zeros to /out/output (memory tests), and what the output hashes to. */
export const ONE_GIB_OF_ZEROS =
  'import subprocess\nsubprocess.run(["head", "-c", str(2**30), "/dev/zero"], stdout=open("/out/output", "wb"), check=True)\n';
export const ONE_GIB_OF_ZEROS_HASH =
  "sha256:49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14";
export const ONE_GIB_LIMITS = { maxOutputBytes: 2 ** 31, timeoutMs: 120_000 };

/** Runs `work` while sampling this process's RSS; returns its value and how far RSS grew. */
export async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const value = await work();
    return { value, growth: peak - before };
  } finally {
    clearInterval(sampler);
  }
}

export async function runPython(
  code: string,
  overrides: StepOverrides = {},
  transport: Transport = "host-mounts",
): Promise<StepRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "rr-step-"));
  const outputFile = path.join(dir, "output");
  try {
    const executor = executors[transport];
    const result = await executor.runStep(pythonStep(code, outputFile, overrides));
    // Containers are removed in the background; tests check the engine right after.
    await executor.settled();
    // Big outputs are not read back: a test of bounded memory must not load them itself.
    const output =
      result.status === "succeeded" && result.size <= 16 * 2 ** 20 ? await readFile(outputFile) : null;
    return { result, output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** runPython through one transport. */
export function pythonRunner(
  transport: Transport,
): (code: string, overrides?: StepOverrides) => Promise<StepRun> {
  return (code, overrides) => runPython(code, overrides, transport);
}

/** The output as text, failing the test with the step's reason when it did not succeed. */
export function textOf(run: StepRun): string {
  if (run.result.status !== "succeeded" || run.output === null) {
    throw new Error(`step failed: ${JSON.stringify(run.result)}`);
  }
  return run.output.toString("utf8");
}
