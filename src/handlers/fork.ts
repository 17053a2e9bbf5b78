/** fork: a new artifact with the source's exact bytes. */
import { copyHashed } from "./copy-hashed.js";
import type { HandlerContext, HandlerOutcome, StepHandler } from "./handler.js";
import { singleInput } from "./single-input.js";

export const forkHandler: StepHandler = {
  stepType: "fork",
  mode: "builtin",
  async replay(context: HandlerContext): Promise<HandlerOutcome> {
    const single = singleInput(context, "a fork has exactly one source");
    if ("failed" in single) return single.failed;
    const source = single.input;
    const copied = await copyHashed(source.file, context.outputFile, context.signal);
    return { kind: "replayed", ...copied, file: context.outputFile };
  },
};
