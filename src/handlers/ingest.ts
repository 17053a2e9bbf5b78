/** ingest: the target is a frozen input; replaying it means checking that its blob is intact. */
import type { HandlerContext, HandlerOutcome, StepHandler } from "./handler.js";

export const ingestHandler: StepHandler = {
  stepType: "ingest",
  mode: "frozen",
  async replay(context: HandlerContext): Promise<HandlerOutcome> {
    const hash = context.chainStep.target.contentHash;
    const check = await context.blobs.check(hash);
    const file = context.blobs.pathFor(hash);
    switch (check.state) {
      case "intact":
        return { kind: "replayed", contentHash: hash, size: check.size, file };
      case "missing":
        return { kind: "failed", reason: `frozen input blob is missing: ${check.path}` };
      case "corrupted":
        return { kind: "replayed", contentHash: check.actualHash, size: check.size, file };
    }
  },
};
