import type { Command } from "commander";

/** Each command file exports one `register...` function; cli.ts calls them in this order. */
export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [];
