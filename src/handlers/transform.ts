import { containerStepHandler } from "./container-step.js";

/** transform: a frozen script run in the step's pinned container (contract, "Container steps"). */
export const transformHandler = containerStepHandler("transform");
