#!/usr/bin/env node
/**
 * The command line. The only place (with the HTTP layer) that turns errors into exit codes
 * and messages; everything below throws ReplayError.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { Command, CommanderError, Option } from "commander";
import { COMMANDS } from "./commands/index.js";
import { styleFor } from "./commands/terminal-style.js";
import {
  EXIT,
  EXIT_CODES_HELP,
  ReplayError,
  exitCodeFor,
  interceptedCrash,
  isReplayError,
  messageOf,
} from "./errors/index.js";
import { visibleLines } from "./terminal/index.js";
import { VERSION } from "./version.js";

export function buildProgram(): Command {
  const program = new Command("replay-runner")
    .description(
      "Replays the recorded processing steps behind an artifact in hermetic containers and checks, byte for byte, that each recorded result comes out again.",
    )
    .version(VERSION, "-V, --version")
    .addOption(
      new Option(
        "--db <url>",
        "registry PostgreSQL URL (default: $DATABASE_URL, else the embedded registry)",
      ),
    )
    .addOption(new Option("--blobs <dir>", "blob store root (default: $REPLAY_BLOBS, else <home>/blobs)"))
    .addOption(new Option("--home <dir>", "replay-runner's folder (default: $REPLAY_HOME, else ./.replay)"))
    .addOption(
      new Option(
        "--image-registry <host:port/prefix>",
        "OCI registry that environment images are pulled from and pushed to (default: $REPLAY_IMAGE_REGISTRY)",
      ),
    )
    .addOption(
      new Option(
        "--pull <policy>",
        "when to pull images from the image registry (default: $REPLAY_PULL, else missing)",
      ).choices(["missing", "never", "always"]),
    )
    .option("--debug", "print stack traces and causes of errors")
    .showHelpAfterError("(run with --help for usage)")
    // Commander quotes argv in its errors ("unknown command '...'"): shown visibly, like ours.
    .configureOutput({ writeErr: (text) => process.stderr.write(visibleLines(text)) })
    .addHelpText(
      "after",
      `\nEnvironment: DATABASE_URL, REPLAY_BLOBS, REPLAY_HOME, DOCKER_HOST, DOCKER_CONFIG, REPLAY_WHEELHOUSE, REPLAY_PIP_INDEX_URL, REPLAY_IMAGE_REGISTRY, REPLAY_IMAGE_REGISTRY_INSECURE, REPLAY_PULL, NO_COLOR\n\n${EXIT_CODES_HELP}`,
    )
    .exitOverride();
  for (const register of COMMANDS) register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** A socket error on the engine's connection that escaped the runner's own translation. */
function isDockerSocketError(error: unknown): boolean {
  const { code, address } = (error ?? {}) as { code?: unknown; address?: unknown };
  const where = `${messageOf(error)} ${typeof address === "string" ? address : ""}`;
  return ["ENOENT", "ECONNREFUSED", "ECONNRESET", "EPIPE"].includes(String(code)) && /docker/i.test(where);
}

function report(error: unknown, debug: boolean): number {
  const style = styleFor(process.stderr);
  if (error instanceof CommanderError) {
    // Commander already printed its message (and help for --help / --version).
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
    if (error.code === "commander.help") return EXIT.ok;
    return EXIT.usage;
  }
  const replayError = isReplayError(error)
    ? error
    : isDockerSocketError(error)
      ? new ReplayError("DOCKER_UNAVAILABLE", `The Docker engine went away: ${messageOf(error)}`, {
          hint: "start it: `dockerd &` or `bash scripts/setup-host.sh docker`, then run the command again",
          cause: error,
        })
      : new ReplayError(
          "INTERNAL",
          `Unexpected error: ${error instanceof Error ? error.message : String(error)}`,
          {
            hint: "This is a bug in replay-runner. Run again with --debug and report the output.",
            cause: error,
          },
        );
  // Messages quote ids from the registry and argv, and steps' stderr: nothing raw reaches the terminal.
  process.stderr.write(`${style.red("error")}: ${visibleLines(replayError.message)}\n`);
  if (replayError.hint !== undefined)
    process.stderr.write(`${style.dim("hint")}: ${visibleLines(replayError.hint)}\n`);
  if (debug) {
    let current: unknown = replayError;
    while (current instanceof Error) {
      process.stderr.write(`${visibleLines(current.stack ?? current.message)}\n`);
      current = current.cause;
      if (current !== undefined) process.stderr.write("caused by: ");
    }
    if (current !== undefined) process.stderr.write(`${visibleLines(inspect(current))}\n`);
  }
  return exitCodeFor(replayError.code);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const debug = argv.includes("--debug");
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    return report(error, debug);
  }
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // `replay-runner ... | head` closes our stdout early: that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  // Last line of defence: an error some library throws outside any await still gets a message
  // and an exit code, not a raw stack trace; unless `serve` claims it (a replay's own crash).
  const crash = (error: unknown) => {
    if (interceptedCrash(error)) return;
    process.exit(report(error, process.argv.includes("--debug")));
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
  const code = await main(process.argv);
  // Exit once the work is done and stdout is flushed, whatever a library left open.
  process.stdout.write("", () => process.exit(code));
}
