import type { Command } from "commander";
import { registerAddCommand } from "./add.js";
import { registerCiteCommand } from "./cite.js";
import { registerExportCrateCommand } from "./export-crate.js";
import { registerForkCommand } from "./fork.js";
import { registerGcCommand } from "./gc.js";
import { registerHistoryCommand } from "./history.js";
import { registerImagesCommand } from "./images.js";
import { registerInitCommand } from "./init.js";
import { registerKeygenCommand } from "./keygen.js";
import { registerLineageCommand } from "./lineage.js";
import { registerRerunCommand } from "./rerun.js";
import { registerRunCommand } from "./run.js";
import { registerServeCommand } from "./serve.js";
import { registerShowCommand } from "./show.js";
import { registerStepTypesCommand } from "./step-types.js";
import { registerVerifyAttestationCommand } from "./verify-attestation.js";
import { registerVerifyCommand } from "./verify.js";
import { registerWorkerCommand } from "./worker.js";

/** Each command file exports one `register...` function; cli.ts calls them in this order. */
export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
  registerRerunCommand,
  registerInitCommand,
  registerLineageCommand,
  registerStepTypesCommand,
  registerGcCommand,
];

// The record side (issue 5): add, run, fork, cite, show.
COMMANDS.push(
  registerAddCommand,
  registerRunCommand,
  registerForkCommand,
  registerCiteCommand,
  registerShowCommand,
);

// The HTTP API and web pages (issue 6).
COMMANDS.push(registerServeCommand);

// Evidence for auditors (issue 14): signing keys, attestations, RO-Crates.
COMMANDS.push(registerKeygenCommand, registerVerifyAttestationCommand, registerExportCrateCommand);

// Environment images shared through an OCI registry (issue 16).
COMMANDS.push(registerImagesCommand);

// Auditing a whole registry (issue 15): verify many artifacts as one batch.
COMMANDS.push(registerVerifyCommand, registerWorkerCommand, registerHistoryCommand);
