/**
 * The runs of one step's triage: `repeat` replays under identical conditions, then one run per
 * variation, each changing exactly one thing from those conditions. Which of reprotest's
 * variations are applied, and why not the others: docs/decisions.md.
 *
 * "Identical conditions" include the clock: every run but the clock variation sees the same
 * frozen instant, so a gzip header or a PNG tIME chunk stamped with the time is the same in each
 * (whatever second boundary real runs would straddle), and only the shifted clock changes it.
 */
import type { StepVariation, VariationSupport } from "../runner/types.js";
import { frozenClock } from "./fake-clock.js";
import type { TriageRun, TriageSkip, VariationName } from "./triage-types.js";

export interface TriageConditions {
  repeat: number;
  support: VariationSupport;
  /** The host's libfaketime; undefined: none installed. */
  faketime: string | undefined;
  /** The frozen instant of the repeats (whole seconds); undefined: they run on the real clock. */
  frozenAt: number | undefined;
  /** Why the clock is not frozen, when it is not. */
  clockWhy?: string | undefined;
  /** The clock variation's shift, in days (reprotest shifts by 180 to 540). */
  shiftDays: number;
  /** CPUs the step sees by default. */
  cpus: number;
  /** The host's architecture (process.arch): the kernel variation is measured on x64 only. */
  hostArch: string;
}

export interface PlannedRun {
  variation: TriageRun["variation"];
  detail: string;
  knobs: StepVariation | undefined;
}

/** Another seed than the contract's pinned 0; fixed, so that triage itself is repeatable. */
export const OTHER_HASH_SEED = "1";
/** UTC+14 (Line Islands), written as a POSIX TZ string: no tzdata needed in the image. */
export const OTHER_TIME_ZONE = "<+14>-14";
export const OTHER_UMASK = "0002";
export const OTHER_HOSTNAME = "triage";
const DAY_S = 86_400;

function merged(base: StepVariation | undefined, own: StepVariation): StepVariation {
  return {
    ...base,
    ...own,
    env: { ...base?.env, ...own.env },
    // One mount per target: the clock variation's library replaces the baseline's.
    readOnlyFiles: [
      ...(base?.readOnlyFiles ?? []).filter((f) => !own.readOnlyFiles?.some((o) => o.target === f.target)),
      ...(own.readOnlyFiles ?? []),
    ],
  };
}

function compact(v: StepVariation): StepVariation | undefined {
  const out: StepVariation = { ...v };
  if (out.env !== undefined && Object.keys(out.env).length === 0) delete out.env;
  if (out.readOnlyFiles?.length === 0) delete out.readOnlyFiles;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** A shift of 180 to 540 days, as reprotest draws it. */
export function drawShiftDays(random: () => number = Math.random): number {
  return 180 + Math.floor(random() * 361);
}

export function planRuns(c: TriageConditions): { runs: PlannedRun[]; notApplied: TriageSkip[] } {
  const frozen =
    c.faketime !== undefined && c.frozenAt !== undefined ? frozenClock(c.faketime, c.frozenAt) : undefined;
  const base = frozen === undefined ? undefined : compact(merged(undefined, frozen));
  const runs: PlannedRun[] = [];
  const notApplied: TriageSkip[] = [];
  for (let i = 0; i < c.repeat; i++)
    runs.push({ variation: "repeat", detail: "identical conditions", knobs: base });
  const vary = (variation: VariationName, detail: string, own: StepVariation): void => {
    runs.push({ variation, detail, knobs: compact(merged(base, own)) });
  };

  if (frozen !== undefined && c.faketime !== undefined && c.frozenAt !== undefined) {
    vary("clock", `clock +${c.shiftDays} days`, frozenClock(c.faketime, c.frozenAt + c.shiftDays * DAY_S));
  } else {
    notApplied.push({ variation: "clock", why: c.clockWhy ?? "the clock could not be frozen" });
  }
  if (c.cpus >= 2) vary("cpus", `1 CPU of ${c.cpus}`, { cpusetCpus: "0" });
  else notApplied.push({ variation: "cpus", why: "this host has one CPU: there is no other count to show" });
  if (c.support.inOrder === null) vary("order", "/in listed in reverse order", { inOrder: "reversed" });
  else notApplied.push({ variation: "order", why: c.support.inOrder });
  vary("hash-seed", `PYTHONHASHSEED=${OTHER_HASH_SEED} instead of 0`, {
    env: { PYTHONHASHSEED: OTHER_HASH_SEED },
  });
  vary("timezone", `TZ=${OTHER_TIME_ZONE} (UTC+14) instead of UTC`, { env: { TZ: OTHER_TIME_ZONE } });
  vary("umask", `umask ${OTHER_UMASK} instead of 0022`, { umask: OTHER_UMASK });
  vary("hostname", `host name "${OTHER_HOSTNAME}" instead of "replay"`, { hostname: OTHER_HOSTNAME });
  // The 32-bit personality (reprotest's "kernel"): uname -m and platform.machine() say i686.
  if (c.hostArch === "x64") vary("kernel", "uname -m i686 (setarch) instead of x86_64", { arch: "i686" });
  else notApplied.push({ variation: "kernel", why: `measured on x86_64 only, not on ${c.hostArch}` });
  return { runs, notApplied };
}

/** Why the clock cannot be frozen here, or undefined when it can. */
export function clockProblem(support: VariationSupport, faketime: string | undefined): string | undefined {
  if (faketime === undefined)
    return "Debian's libfaketime is not installed on this host (scripts/setup-host.sh faketime)";
  if (support.readOnlyFiles !== null) return support.readOnlyFiles;
  return undefined;
}
