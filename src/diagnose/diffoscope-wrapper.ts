/**
 * The script the diff's container runs (as /code/diffoscope-report.sh): diffoscope on the two
 * payloads with its limits, under an inner wall clock, then its exit status and its three reports
 * packed into /out/output as a tar, the one regular file the step executor accepts. Limits come in
 * the environment (never interpolated into the script); names are argv.
 */
import type { DiffLimits } from "./diff-limits.js";
import { diffoscopeTimeoutSeconds } from "./diff-limits.js";

export const WRAPPER_NAME = "diffoscope-report.sh";

/** The names of the tar's entries; anything else in it is ignored. */
export const REPORT_ENTRIES = {
  status: "status",
  text: "report.txt",
  html: "report.html",
  json: "report.json",
} as const;

export const WRAPPER_SCRIPT = `#!/bin/sh
# replay-runner: diffoscope on /in/$1 and /in/$2, its reports packed into /out/output.
# Exit 0 whenever the reports were packed; the entry "status" says how diffoscope ended:
# its exit status, how long it ran, and how many processes the OOM killer took (cgroup v1 or v2).
set -u
reports=/tmp/reports
mkdir "$reports" || exit 70
started=$(date +%s)
status=0
timeout -k 5 "$RR_WALL_S" diffoscope --no-progress \\
  --text "$reports/${REPORT_ENTRIES.text}" --json "$reports/${REPORT_ENTRIES.json}" \\
  --max-text-report-size "$RR_REPORT_BYTES" --max-diff-block-lines "$RR_BLOCK_LINES" \\
  --max-container-depth "$RR_DEPTH" --timeout "$RR_TIMEOUT_S" \\
  --exclude-directory-metadata=yes -- "/in/$1" "/in/$2" >/dev/null || status=$?
# The HTML report is rendered from the JSON one: asking for HTML in the comparison would make
# diffoscope compute visual diffs of images, which needs ImageMagick (not in the image, on purpose).
left=$((RR_WALL_S - ($(date +%s) - started)))
if [ "$status" = 1 ] && [ -f "$reports/${REPORT_ENTRIES.json}" ] && [ "$left" -gt 0 ]; then
  rendered=0
  timeout -k 5 "$left" diffoscope --no-progress --load-existing-diff "$reports/${REPORT_ENTRIES.json}" \\
    --html "$reports/${REPORT_ENTRIES.html}" --max-report-size "$RR_REPORT_BYTES" \\
    --max-page-size "$RR_REPORT_BYTES" --max-diff-block-lines "$RR_BLOCK_LINES" >/dev/null || rendered=$?
  # 1 is "the loaded report has differences"; anything else left no usable page.
  [ "$rendered" -le 1 ] || rm -f "$reports/${REPORT_ENTRIES.html}"
fi
oom=$(cat /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null | awk '$1 == "oom_kill" { print $2; exit }')
printf 'exit=%s\\nseconds=%s\\noom_kills=%s\\n' "$status" "$(($(date +%s) - started))" "\${oom:-0}" >"$reports/${REPORT_ENTRIES.status}"
set -- ${REPORT_ENTRIES.status}
for report in ${REPORT_ENTRIES.text} ${REPORT_ENTRIES.html} ${REPORT_ENTRIES.json}; do
  [ -f "$reports/$report" ] || continue
  # The JSON report has no limit of its own: keep one byte past the bound, so the host knows.
  truncate -s "<$((RR_REPORT_BYTES + 1))" "$reports/$report"
  set -- "$@" "$report"
done
exec tar -C "$reports" -cf /out/output -- "$@"
`;

/** The wrapper's environment: the limits, as decimal numbers. */
export function wrapperEnv(limits: DiffLimits): Record<string, string> {
  return {
    RR_WALL_S: String(limits.wallSeconds),
    RR_TIMEOUT_S: String(diffoscopeTimeoutSeconds(limits)),
    RR_REPORT_BYTES: String(limits.reportBytes),
    RR_BLOCK_LINES: String(limits.maxDiffBlockLines),
    RR_DEPTH: String(limits.maxContainerDepth),
  };
}

/** How diffoscope ended, as the wrapper's "status" entry says. */
export interface WrapperStatus {
  exit: number;
  seconds: number;
  oomKills: number;
}

export function parseWrapperStatus(text: string): WrapperStatus | undefined {
  const field = (name: string) => {
    const value = new RegExp(`^${name}=(\\d{1,9})$`, "m").exec(text)?.[1];
    return value === undefined ? undefined : Number(value);
  };
  const exit = field("exit");
  if (exit === undefined) return undefined;
  return { exit, seconds: field("seconds") ?? 0, oomKills: field("oom_kills") ?? 0 };
}

/** coreutils timeout's status when the wall clock stopped diffoscope with TERM. */
export const TIMED_OUT = 124;
/** SIGKILL: timeout's KILL 5 s after a TERM that did not stop it, or the OOM killer. */
export const KILLED = 128 + 9;
