/** The verdict rules and the run plan, as data (triage-verdicts.test.ts checks them on a real engine). */
import { describe, expect, it } from "vitest";
import { judge, type VerdictInput } from "../../src/diagnose/triage-verdict.js";
import { planRuns } from "../../src/diagnose/variations.js";
import { triageSentence, type TriageRun } from "../../src/diagnose/index.js";

const H = (c: string) => `sha256:${c.repeat(64)}`;
const checks: VerdictInput["checks"] = {
  inputs: "matched",
  codeHash: H("c"),
  recordedImage: H("1"),
  replayedImage: H("2"),
  lastReproduced: { image: H("3"), replay: "r-earlier" },
};
const run = (
  variation: TriageRun["variation"],
  hash: string | null,
  detail: string = variation,
): TriageRun =>
  hash === null
    ? { variation, detail, output_hash: null, error: "boom" }
    : { variation, detail, output_hash: hash };
const base = { recorded: H("0"), replayed: H("a"), clockFrozen: true, latent: false, checks };

describe("triage verdicts", () => {
  it("nondeterministic when repeats under identical conditions disagree", () => {
    expect(judge({ ...base, runs: [run("repeat", H("b")), run("repeat", H("d"))] })).toEqual({
      verdict: "nondeterministic",
      sensitive_to: [],
      explanation: "3 replays gave 3 different outputs",
    });
  });

  it("counts the main replay as a repeat when the clock was not frozen", () => {
    const runs = [run("repeat", H("b")), run("repeat", H("b"))];
    expect(judge({ ...base, clockFrozen: false, runs }).verdict).toBe("nondeterministic");
    // Frozen: the main replay differs from them in the clock only.
    expect(judge({ ...base, runs })).toMatchObject({
      verdict: "environment-sensitive",
      sensitive_to: ["clock"],
    });
  });

  it("environment-sensitive names each variation that changed the output, in run order", () => {
    const runs = [
      run("repeat", H("a")),
      run("repeat", H("a")),
      run("cpus", H("e"), "1 CPU of 2"),
      run("order", H("a")),
      run("hash-seed", H("f"), "PYTHONHASHSEED=1 instead of 0"),
      run("umask", null),
    ];
    expect(judge({ ...base, runs })).toEqual({
      verdict: "environment-sensitive",
      sensitive_to: ["cpus", "hash-seed"],
      explanation:
        "the output changes with 1 CPU of 2, PYTHONHASHSEED=1 instead of 0; 2 repeats under identical conditions agreed; 1 run failed (umask)",
    });
  });

  it("says when the repeats gave the recorded bytes (a time stamp of the recorded second)", () => {
    const runs = [run("repeat", H("0")), run("repeat", H("0")), run("clock", H("e"), "clock +200 days")];
    expect(judge({ ...base, runs }).explanation).toBe(
      "the output changes with clock +200 days; 2 repeats under identical conditions agreed; the repeats gave the recorded bytes",
    );
  });

  it("drift when everything agrees and differs from the record, naming what was checked", () => {
    const runs = [run("repeat", H("a")), run("repeat", H("a")), run("clock", H("a"))];
    expect(judge({ ...base, runs })).toEqual({
      verdict: "drift",
      sensitive_to: [],
      explanation: `4 replays under 1 variation gave the same bytes, not the recorded ones: the step is deterministic here, so the record came from other code, inputs or environment; its inputs hash to the recorded input_hash; its script hashes to the recorded code_hash ${H("c")}; it was recorded in image ${H("1")} and replayed in ${H("2")}; the last replay that reproduced it (r-earlier) used image ${H("3")}, this one ${H("2")}`,
    });
  });

  it("deterministic for a reproduced step whose every run gives the recorded bytes", () => {
    const runs = [run("repeat", H("0")), run("repeat", H("0")), run("cpus", H("0"))];
    expect(judge({ ...base, replayed: H("0"), latent: true, runs })).toMatchObject({
      verdict: "deterministic",
      explanation: "4 replays under 1 variation gave the recorded bytes",
    });
  });

  it("inconclusive when fewer than two repeats ran", () => {
    expect(judge({ ...base, runs: [run("repeat", H("a")), run("repeat", null)] })).toEqual({
      verdict: "inconclusive",
      sensitive_to: [],
      explanation:
        "fewer than two replays under identical conditions gave an output; 1 run failed (a repeat)",
    });
  });
});

describe("the run plan", () => {
  const support = { readOnlyFiles: null, inOrder: null };

  it("freezes the clock for every run but the clock variation, which shifts it", () => {
    const { runs, notApplied } = planRuns({
      repeat: 2,
      support,
      faketime: "/lib/libfaketime.so.1",
      frozenAt: 1000,
      shiftDays: 200,
      cpus: 4,
      hostArch: "x64",
    });
    expect(notApplied).toEqual([]);
    expect(runs.map((r) => [r.variation, r.knobs?.env?.FAKETIME])).toEqual([
      ["repeat", "1000"],
      ["repeat", "1000"],
      ["clock", String(1000 + 200 * 86400)],
      ["cpus", "1000"],
      ["order", "1000"],
      ["hash-seed", "1000"],
      ["timezone", "1000"],
      ["umask", "1000"],
      ["hostname", "1000"],
      ["kernel", "1000"],
    ]);
    // One library mount each, and each variation changes one thing beside the frozen clock.
    for (const r of runs) expect(r.knobs?.readOnlyFiles).toHaveLength(1);
    expect(runs.find((r) => r.variation === "cpus")?.knobs?.cpusetCpus).toBe("0");
    expect(runs.find((r) => r.variation === "hash-seed")?.knobs?.env?.PYTHONHASHSEED).toBe("1");
    expect(runs.find((r) => r.variation === "order")?.knobs?.inOrder).toBe("reversed");
    expect(runs.find((r) => r.variation === "kernel")?.knobs?.arch).toBe("i686");
  });

  it("says why a variation is not applied: no libfaketime, one CPU, files as archives", () => {
    const { runs, notApplied } = planRuns({
      repeat: 3,
      support: { readOnlyFiles: "it needs host mounts", inOrder: "it needs host mounts" },
      faketime: undefined,
      frozenAt: undefined,
      clockWhy: "Debian's libfaketime is not installed on this host",
      shiftDays: 200,
      cpus: 1,
      hostArch: "arm64",
    });
    expect(notApplied).toEqual([
      { variation: "clock", why: "Debian's libfaketime is not installed on this host" },
      { variation: "cpus", why: "this host has one CPU: there is no other count to show" },
      { variation: "order", why: "it needs host mounts" },
      { variation: "kernel", why: "measured on x86_64 only, not on arm64" },
    ]);
    expect(runs.map((r) => r.variation)).toEqual([
      "repeat",
      "repeat",
      "repeat",
      "hash-seed",
      "timezone",
      "umask",
      "hostname",
    ]);
    expect(runs[0]!.knobs).toBeUndefined();
  });
});

describe("the verdict in a sentence", () => {
  const triage = {
    verdict: "nondeterministic",
    latent: false,
    explanation: "3 replays gave 3 different outputs",
  };

  it("adds the row's diff explanation when a format-aware diff ran, and nothing for a plain diff path", () => {
    expect(
      triageSentence(triage, {
        tool: "diffoscope 240",
        explanation: "gzip header: modification time differs",
      }),
    ).toBe("nondeterministic: 3 replays gave 3 different outputs; gzip header: modification time differs");
    expect(triageSentence(triage, "diffs/s-a.diff")).toBe(
      "nondeterministic: 3 replays gave 3 different outputs",
    );
    expect(triageSentence(triage, null)).toBe("nondeterministic: 3 replays gave 3 different outputs");
  });

  it("marks a latent finding", () => {
    expect(
      triageSentence({ ...triage, verdict: "environment-sensitive", latent: true, explanation: "x" }),
    ).toBe("environment-sensitive (latent): x");
    expect(triageSentence({ ...triage, verdict: "deterministic", latent: true, explanation: "y" })).toBe(
      "deterministic: y",
    );
  });
});
