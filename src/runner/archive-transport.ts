/**
 * Files in and out through the Engine API's archive endpoints (see step-transport.ts). Inputs
 * and code are packed as root-owned 0444 files with the step's SOURCE_DATE_EPOCH as mtime.
 */
import type { DockerEngine } from "./engine-port.js";
import { OutputRuleError, type ExtractOptions, type ExtractedOutput } from "./output-file.js";
import { packFiles } from "./pack-files.js";
import type { StepTransport } from "./step-transport.js";
import type { PayloadSource } from "./types.js";

export const NO_OUTPUT = "the step exited 0 but wrote no /out/output";

/** GET /archive of /out/output, parsed as hostile (output-archive.ts, loaded only when used). */
export async function takeOutputArchive(
  engine: DockerEngine,
  id: string,
  options: ExtractOptions,
): Promise<ExtractedOutput> {
  const archive = await engine.getArchive(id, "/out/output");
  if (archive === null) throw new OutputRuleError(NO_OUTPUT);
  const { extractOutput } = await import("./output-archive.js");
  return extractOutput(archive, options);
}

export function archiveTransport(code: PayloadSource, mtime: number): StepTransport {
  return {
    binds: [],
    prepare: async (engine: DockerEngine, id: string) => {
      await engine.putArchive(id, "/code", await packFiles([code], mtime));
    },
    fill: async (engine: DockerEngine, id: string, inputs: PayloadSource[]) => {
      await engine.putArchive(id, "/in", await packFiles(inputs, mtime));
    },
    async takeOutput(engine: DockerEngine, id: string, options: ExtractOptions) {
      return takeOutputArchive(engine, id, options);
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}
