import { containerStepHandler } from "./container-step.js";

/** merge: a frozen script run in the step's pinned container (contract, "Container steps"). */
export const mergeHandler = containerStepHandler("merge");
