/**
 * A small replayable registry for the server tests: a chain that reproduces, one that
 * mismatches (for diffs), and one whose step sleeps (for cancel and kill tests). Scripts read
 * /in/source and write /out/output, like production's container steps.
 */
import { BlobStore } from "../../src/blobs/index.js";
import { RegistryFixture } from "../support/registry-fixture.js";
import type { TestRegistry } from "../support/test-registry.js";

export const RAW = "a,b\n1,2\n";
const UPPER = `open("/out/output", "w").write(open("/in/source").read().upper())
`;
const sleepThenCopy = (seconds: number) => `import time
time.sleep(${seconds})
open("/out/output", "wb").write(open("/in/source", "rb").read())
`;

export interface ChainOptions {
  /** Seconds the "slow" artifact's step sleeps. */
  slowSeconds?: number;
}

export async function seedServedChain(registry: TestRegistry, options: ChainOptions = {}): Promise<void> {
  await registry.with(async (db) => {
    const f = new RegistryFixture(db, new BlobStore(registry.blobRoot));
    await f.artifact("raw", RAW, { title: "Raw survey table", mediaType: "text/csv" });
    await f.step({
      id: "s-raw",
      target: "raw",
      stepType: "ingest",
      inputHash: null,
      method: "downloaded from the survey portal",
    });
    await f.artifact("upper", RAW.toUpperCase(), {
      type: "table",
      title: "Upper-cased table",
      mediaType: "text/csv",
    });
    await f.step({
      id: "s-upper",
      source: "raw",
      target: "upper",
      stepType: "transform",
      method: "upper-case every cell",
      parameters: { code_hash: await f.blob(UPPER) },
    });
    await f.artifact("wrong", "a,b\n1,3\n", { type: "table", title: "A table whose recorded bytes differ" });
    await f.step({
      id: "s-wrong",
      source: "raw",
      target: "wrong",
      stepType: "transform",
      method: "copy (recorded bytes were edited)",
      parameters: { code_hash: await f.blob(sleepThenCopy(0)) },
    });
    await f.artifact("slow", RAW, { type: "table", title: "A slow copy" });
    await f.step({
      id: "s-slow",
      source: "raw",
      target: "slow",
      stepType: "transform",
      method: `sleep ${options.slowSeconds ?? 30} s, then copy`,
      parameters: { code_hash: await f.blob(sleepThenCopy(options.slowSeconds ?? 30)) },
    });
  });
}
