/**
 * The verdict of one step's triage, from the hashes of its runs (pure; docs/decisions.md has the
 * rules):
 * - nondeterministic: runs under identical conditions disagree;
 * - environment-sensitive: they agree, and some variation changes the output (`sensitive_to`);
 * - drift: every run, under every variation, gives the same bytes, not the recorded ones;
 * - deterministic: the same, and they are the recorded ones (a reproduced step, --triage=all);
 * - inconclusive: fewer than two runs under identical conditions succeeded.
 * The main replay is one more run under identical conditions when the repeats ran on the real
 * clock; when they ran under a frozen one, it differs from them in the clock only.
 */
import type { StepTriage, TriageRun, TriageVerdict, VariationName } from "./triage-types.js";

/** What replay-runner can still check about a deterministic step whose record differs. */
export interface RecordChecks {
  /** Recorded input_hash against what the replay consumed. */
  inputs: "matched" | "none" | "not-recorded" | "differ";
  /** The script's recorded code_hash (its blob was verified against it before running). */
  codeHash: string | null;
  /** The image id recorded with the output (artifact metadata image_id). */
  recordedImage: string | null;
  replayedImage: string | null;
  /** The image of the last replay in which this step reproduced, before this one. */
  lastReproduced: { image: string; replay: string } | null;
}

export interface VerdictInput {
  recorded: string;
  /** The main replay's output hash. */
  replayed: string;
  /** Repeats and variations, in the order they were planned. */
  runs: TriageRun[];
  /** The repeats and variations ran under a frozen clock (the main replay did not). */
  clockFrozen: boolean;
  /** The step reproduced (triaged by --triage=all). */
  latent: boolean;
  checks: RecordChecks;
}

export type Judgement = Pick<StepTriage, "verdict" | "sensitive_to" | "explanation">;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function distinct(hashes: readonly string[]): number {
  return new Set(hashes).size;
}

function failures(runs: readonly TriageRun[]): string {
  const failed = runs.filter((r) => r.output_hash === null);
  if (failed.length === 0) return "";
  const which = failed.map((r) => (r.variation === "repeat" ? "a repeat" : r.variation)).join(", ");
  return `; ${plural(failed.length, "run")} failed (${which})`;
}

function recordChecks(c: RecordChecks): string {
  const parts: string[] = [];
  parts.push(
    c.inputs === "matched"
      ? "its inputs hash to the recorded input_hash"
      : c.inputs === "none"
        ? "it has no inputs"
        : c.inputs === "not-recorded"
          ? "no input_hash was recorded to check its inputs against"
          : "its inputs differ from the recorded input_hash",
  );
  if (c.codeHash !== null) parts.push(`its script hashes to the recorded code_hash ${c.codeHash}`);
  if (c.recordedImage === null) parts.push("no image id was recorded with its output");
  else if (c.recordedImage === c.replayedImage) parts.push(`it ran in the recorded image ${c.recordedImage}`);
  else
    parts.push(`it was recorded in image ${c.recordedImage} and replayed in ${c.replayedImage ?? "another"}`);
  if (c.lastReproduced === null) parts.push("no earlier replay reproduced it");
  else if (c.lastReproduced.image === c.replayedImage)
    parts.push(`the last replay that reproduced it (${c.lastReproduced.replay}) used this same image`);
  else
    parts.push(
      `the last replay that reproduced it (${c.lastReproduced.replay}) used image ${c.lastReproduced.image}, this one ${c.replayedImage ?? "another"}`,
    );
  return parts.join("; ");
}

export function judge(input: VerdictInput): Judgement {
  const repeats = input.runs.filter((r) => r.variation === "repeat");
  const varied = input.runs.filter((r) => r.variation !== "repeat" && r.variation !== "replay");
  const repeatHashes = repeats.flatMap((r) => (r.output_hash === null ? [] : [r.output_hash]));
  // The main replay ran under the same conditions as the repeats unless they had a frozen clock.
  const identical = input.clockFrozen ? repeatHashes : [input.replayed, ...repeatHashes];
  const failed = failures(input.runs);
  if (identical.length < 2) {
    return {
      verdict: "inconclusive",
      sensitive_to: [],
      explanation: `fewer than two replays under identical conditions gave an output${failed}`,
    };
  }
  const all = [input.replayed, ...repeatHashes];
  if (distinct(identical) > 1) {
    return {
      verdict: "nondeterministic",
      sensitive_to: [],
      explanation: `${plural(all.length, "replay")} gave ${plural(distinct(all), "different output")}${failed}`,
    };
  }
  const baseline = identical[0] ?? input.replayed;
  const sensitive: VariationName[] = [];
  const changedBy: string[] = [];
  for (const run of varied) {
    if (run.output_hash === null || run.output_hash === baseline || run.variation === "replay") continue;
    if (run.variation === "repeat" || sensitive.includes(run.variation)) continue;
    sensitive.push(run.variation);
    changedBy.push(run.detail);
  }
  if (input.clockFrozen && input.replayed !== baseline && !sensitive.includes("clock")) {
    sensitive.unshift("clock");
    changedBy.unshift("the real clock of the main replay");
  }
  const agreed = `${plural(repeatHashes.length, "repeat")} under identical conditions agreed`;
  const latent = input.latent ? "it reproduced under the contract's conditions, but " : "";
  if (sensitive.length > 0) {
    // E.g. a gzip header stamped in the second the step was recorded in: the frozen clock is
    // that second, so the repeats give back the recorded bytes.
    const record =
      !input.latent && baseline === input.recorded ? "; the repeats gave the recorded bytes" : "";
    return {
      verdict: "environment-sensitive",
      sensitive_to: sensitive,
      explanation: `${latent}the output changes with ${changedBy.join(", ")}; ${agreed}${record}${failed}`,
    };
  }
  const ran = all.length + varied.filter((r) => r.output_hash !== null).length;
  const under = plural(varied.filter((r) => r.output_hash !== null).length, "variation");
  if (baseline === input.recorded) {
    return {
      verdict: "deterministic",
      sensitive_to: [],
      explanation: `${plural(ran, "replay")} under ${under} gave the recorded bytes${failed}`,
    };
  }
  return {
    verdict: "drift" satisfies TriageVerdict,
    sensitive_to: [],
    explanation: `${plural(ran, "replay")} under ${under} gave the same bytes, not the recorded ones: the step is deterministic here, so the record came from other code, inputs or environment; ${recordChecks(input.checks)}${failed}`,
  };
}
