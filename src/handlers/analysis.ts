import { containerStepHandler } from "./container-step.js";

/** analysis: a frozen script run in the step's pinned container (contract, "Container steps"). */
export const analysisHandler = containerStepHandler("analysis");
