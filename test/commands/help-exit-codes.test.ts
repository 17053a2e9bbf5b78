// Runs the built CLI: `npm test` builds first; run `npm run build` before running this file alone.
/**
 * Each command's --help lists the exit codes that command can return, not the whole table
 * (issue 12, item 17); `replay-runner --help` has all of them.
 */
import { describe, expect, it } from "vitest";
import { EXIT_CODE_MEANINGS } from "../../src/errors/index.js";
import { runCli } from "../support/run-cli.js";

const ALL = [0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 70, 130, 143];
const RUN = [0, 1, 2, 3, 4, 5, 6, 70, 130, 143];

const EXPECTED: Record<string, number[]> = {
  rerun: [0, 1, 2, 3, 4, 5, 6, 14, 70, 130, 143],
  run: RUN,
  keygen: [0, 2, 6, 14, 70],
  "verify-attestation": [0, 1, 2, 3, 10, 11, 12, 13, 14, 70],
  "export-crate": [0, 2, 3, 4, 5, 6, 70],
  images: [0, 2, 3, 70],
  init: [0, 2, 3, 70],
  lineage: [0, 2, 3, 4, 70],
  "step-types": [0, 2, 3, 4, 70],
  gc: [0, 2, 3, 70],
  add: [0, 2, 3, 4, 6, 70],
  fork: [0, 2, 3, 4, 5, 6, 70],
  cite: [0, 2, 3, 4, 5, 6, 70],
  show: [0, 2, 3, 4, 5, 70],
  serve: [0, 2, 3, 70, 130, 143],
  verify: [0, 1, 2, 3, 4, 5, 6, 70, 130, 143],
  worker: [2, 3, 70, 130, 143],
  history: [0, 2, 3, 70],
};

/** The codes of the "Exit codes:" section, each with its first line of meaning. */
function exitCodesIn(help: string): [number, string][] {
  const section = help.split("\nExit codes:\n")[1] ?? "";
  return section.split("\n").flatMap((line) => {
    const match = /^ {2}(\d+) +(\S.*)$/.exec(line);
    return match === null ? [] : [[Number(match[1]), match[2] ?? ""] as [number, string]];
  });
}

describe("exit codes in --help", () => {
  it.each(Object.entries(EXPECTED))(
    "%s --help lists exactly the codes it can return",
    async (command, codes) => {
      const result = await runCli([command, "--help"], { cleanEnv: true });
      expect(result.code).toBe(0);
      expect(result.stdout.split("\nExit codes:\n")).toHaveLength(2);
      expect(exitCodesIn(result.stdout)).toEqual(
        codes.map((code) => [code, (EXIT_CODE_MEANINGS as Record<number, string>)[code]?.split("\n")[0]]),
      );
    },
  );

  it("replay-runner --help lists every code", async () => {
    const result = await runCli(["--help"], { cleanEnv: true });
    expect(exitCodesIn(result.stdout).map(([code]) => code)).toEqual(ALL);
  });

  it("covers every command", async () => {
    const result = await runCli(["--help"], { cleanEnv: true });
    const commands = (result.stdout.split("\nCommands:\n")[1] ?? "")
      .split("\n")
      .flatMap((line) => /^ {2}([a-z-]+)/.exec(line)?.[1] ?? [])
      .filter((name) => name !== "help");
    expect(commands.sort()).toEqual(Object.keys(EXPECTED).sort());
  });
});
