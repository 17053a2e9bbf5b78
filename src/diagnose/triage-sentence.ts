/** The verdict in one sentence, for the terminal and the replay page. */

/** The `explanation` of a row's `diff` member, when a format-aware diff ran (section 1 of issue 13). */
export function diffExplanationOf(diff: unknown): string | undefined {
  if (typeof diff !== "object" || diff === null || !("explanation" in diff)) return undefined;
  const explanation = diff.explanation;
  return typeof explanation === "string" && explanation !== "" ? explanation : undefined;
}

/** `nondeterministic: 3 replays gave 3 different outputs; the gzip header's modification time differs`. */
export function triageSentence(
  triage: { verdict: string; latent: boolean; explanation: string },
  diff?: unknown,
): string {
  const what = diffExplanationOf(diff);
  const verdict =
    triage.latent && triage.verdict !== "deterministic" ? `${triage.verdict} (latent)` : triage.verdict;
  return `${verdict}: ${triage.explanation}${what === undefined ? "" : `; ${what}`}`;
}
