/** A private temporary folder removed on dispose, for outputs on their way into the blob store. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface ScratchDir extends AsyncDisposable {
  readonly path: string;
}

export async function scratchDir(prefix: string): Promise<ScratchDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  return {
    path: dir,
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
