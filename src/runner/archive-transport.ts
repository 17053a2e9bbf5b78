/**
 * Files in and out through the Engine API's archive endpoints (see step-transport.ts). Inputs
 * and code are packed as root-owned 0444 files with the step's SOURCE_DATE_EPOCH as mtime.
 */
import type { DockerEngine } from "./engine-port.js";
import { packFiles } from "./input-archive.js";
import { OutputRuleError, extractOutput, type ExtractOptions } from "./output-archive.js";
import type { StepTransport } from "./step-transport.js";
import type { PayloadSource } from "./types.js";

export const NO_OUTPUT = "the step exited 0 but wrote no /out/output";

export function archiveTransport(code: PayloadSource, mtime: number): StepTransport {
  return {
    binds: [],
    prepare: (engine: DockerEngine, id: string) => engine.putArchive(id, "/code", packFiles([code], mtime)),
    fill: (engine: DockerEngine, id: string, inputs: PayloadSource[]) =>
      engine.putArchive(id, "/in", packFiles(inputs, mtime)),
    async takeOutput(engine: DockerEngine, id: string, options: ExtractOptions) {
      const archive = await engine.getArchive(id, "/out/output");
      if (archive === null) throw new OutputRuleError(NO_OUTPUT);
      return extractOutput(archive, options);
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}
