import { containerStepHandler } from "./container-step.js";

/** render: a frozen script run in the step's pinned container (contract, "Container steps"). */
export const renderHandler = containerStepHandler("render");
