/**
 * How a step's files get in and out of its container. Two ways, one contract view:
 * - archives (archive-transport.ts): anonymous volumes filled with PUT /archive before start,
 *   /out/output read with GET /archive after exit. Works with any engine, local or remote.
 * - host mounts (host-transport.ts): /in and /code are read-only bind mounts of a staged host
 *   folder, /out a bind-mounted empty folder read in place. Only for an engine on this host;
 *   it saves the two archive round trips (~110 ms of a ~230 ms step, bench/RESULTS.md).
 */
import type { DockerEngine } from "./engine-port.js";
import type { ExtractOptions, ExtractedOutput } from "./output-file.js";
import type { PayloadSource } from "./types.js";

export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface StepTransport extends AsyncDisposable {
  /** Mounts that take the place of the anonymous volume at their target. */
  readonly binds: BindMount[];
  /** After create: put in what is known before the inputs (the script). */
  prepare(engine: DockerEngine, containerId: string): Promise<void>;
  /** Before start: put in the inputs (params.json among them). */
  fill(engine: DockerEngine, containerId: string, inputs: PayloadSource[]): Promise<void>;
  /**
   * After a zero exit: checks that /out/output is one regular file within the limit, writes its
   * bytes to `options.outputFile` and hashes them. Throws OutputRuleError when a rule is broken.
   */
  takeOutput(engine: DockerEngine, containerId: string, options: ExtractOptions): Promise<ExtractedOutput>;
}
