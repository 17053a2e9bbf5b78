/** rerun's triage flags: bad values are usage errors (exit 2) before anything opens. */
import { describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

describe("rerun --triage usage", () => {
  it.each([
    [["rerun", "x", "--repeat", "3"], "--repeat counts the repeats of --triage; it does nothing alone."],
    [
      ["rerun", "x", "--triage=some"],
      "--triage takes no value (the origin mismatches) or =all (also the steps that reproduced)",
    ],
    [
      ["rerun", "x", "--triage", "--repeat", "1"],
      "--repeat must be at least 2: triage compares repeats with each other",
    ],
    [["rerun", "x", "--triage", "--repeat", "two"], "--repeat must be a whole number"],
  ])("%j exits 2 and says what is wrong", async (args, message) => {
    const result = await runCli(args, { env: { REPLAY_HOME: "/nonexistent/rr-home" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it("explains --triage and --repeat in --help", async () => {
    const help = await runCli(["rerun", "--help"]);
    expect(help.stdout).toMatch(/--triage \[all\]\s+for each origin mismatch, replay the step again/);
    expect(help.stdout.replace(/\s+/g, " ")).toContain(
      "--repeat <n> with --triage: repeats under identical conditions (default 2)",
    );
  });
});
