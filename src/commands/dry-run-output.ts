/** The text `rerun --dry-run` prints: the plan, one line per step, then what is frozen and what is wrong. */
import type { DryRunPlan } from "../replay/index.js";
import { visibleText } from "../terminal/index.js";

export function formatDryRun(plan: DryRunPlan): string {
  const lines = [
    `plan for ${plan.target_artifact_id}: ${plan.steps.length} of ${plan.chain_steps} step(s) would run${plan.from === null ? "" : ` (from ${plan.from})`}`,
  ];
  for (const [i, s] of plan.steps.entries()) {
    const after = s.upstream_step_ids.length > 0 ? ` after ${s.upstream_step_ids.join(", ")}` : "";
    lines.push(
      `  ${i + 1}. ${s.step_id} ${s.step_type} (${s.mode}, environment ${s.environment}) -> ${s.target_artifact_id}${after}`,
    );
  }
  if (plan.frozen_inputs.length > 0) {
    lines.push(`frozen inputs (${plan.frozen_inputs.length}, consumed as recorded):`);
    for (const f of plan.frozen_inputs) lines.push(`  ${f.artifact_id} ${f.content_hash}: ${f.why}`);
  }
  if (plan.problems.length > 0) {
    lines.push(`problems (${plan.problems.length}; a replay with --strict would refuse to start):`);
    for (const p of plan.problems) lines.push(`  ${p}`);
  } else {
    lines.push("integrity: every frozen input and script is present and intact");
  }
  lines.push(
    `planned in ${plan.timings_ms.walk_and_plan} ms, checked in ${plan.timings_ms.integrity_checks} ms; nothing was run`,
  );
  // Every line quotes ids, types and reasons from the registry.
  return `${lines.map(visibleText).join("\n")}\n`;
}
