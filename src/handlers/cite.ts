/**
 * cite: the RFC 8785 canonical JSON of `parameters` plus `"cites": <source content_hash>`,
 * followed by one newline.
 */
import { writeFile } from "node:fs/promises";
import { CanonicalJsonError, canonicalJson, contentHashOf, describeJsonError } from "../hashing/index.js";
import type { HandlerContext, HandlerOutcome, StepHandler } from "./handler.js";
import { singleInput } from "./single-input.js";

export function citationBytes(parameters: Record<string, unknown>, sourceHash: string): Buffer {
  return Buffer.from(`${canonicalJson({ ...parameters, cites: sourceHash })}\n`, "utf8");
}

export const citeHandler: StepHandler = {
  stepType: "cite",
  mode: "builtin",
  async replay(context: HandlerContext): Promise<HandlerOutcome> {
    const single = singleInput(context, "a citation cites exactly one source");
    if ("failed" in single) return single.failed;
    const source = single.input;
    const parameters = context.chainStep.step.parameters;
    if (parameters === null || typeof parameters !== "object" || Array.isArray(parameters)) {
      return { kind: "failed", reason: "parameters of a cite step must be a JSON object" };
    }
    let bytes: Buffer;
    try {
      bytes = citationBytes(parameters as Record<string, unknown>, source.contentHash);
    } catch (error) {
      if (!(error instanceof CanonicalJsonError)) throw error;
      const step = context.chainStep.step.id;
      return { kind: "failed", reason: `step ${step}: ${describeJsonError("parameters", error)}` };
    }
    await writeFile(context.outputFile, bytes);
    return {
      kind: "replayed",
      contentHash: contentHashOf(bytes),
      size: bytes.length,
      file: context.outputFile,
    };
  },
};
