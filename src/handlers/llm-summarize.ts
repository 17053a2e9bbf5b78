import { unreplayableHandler } from "./unreplayable.js";

export const llmSummarizeHandler = unreplayableHandler(
  "llm_summarize",
  "it called an external language-model service, which the network-less sandbox cannot reach",
);
