/** fork: a new artifact with the source's exact bytes. */
import { copyHashed } from "./copy-hashed.js";
import type { HandlerContext, HandlerOutcome, StepHandler } from "./handler.js";

export const forkHandler: StepHandler = {
  stepType: "fork",
  mode: "builtin",
  async replay(context: HandlerContext): Promise<HandlerOutcome> {
    const [source, ...rest] = context.inputs;
    if (source === undefined || rest.length > 0) {
      return {
        kind: "failed",
        reason: `a fork has exactly one source; this step has ${context.inputs.length} inputs`,
      };
    }
    const copied = await copyHashed(source.file, context.outputFile, context.signal);
    return { kind: "replayed", ...copied, file: context.outputFile };
  },
};
