/**
 * The wall clock of a triage run, through Debian's libfaketime on the host, mounted read-only
 * into the container and preloaded (measured: `date` and Python's time.time() follow it under a
 * read-only root; static binaries do not; file mtimes the kernel writes stay real).
 *
 * Frozen, not running: an instant given as epoch seconds (FAKETIME_FMT=%s, so the time zone
 * variation does not move it). The monotonic clock stays real (FAKETIME_DONT_FAKE_MONOTONIC):
 * with a faked one, timed waits (threading.Event.wait) and busy waits hang. libfaketime 0.9.10
 * then breaks Python >= 3.11's time.sleep (EINVAL, libfaketime issue #426): triage-step.ts falls
 * back to the real clock for a step that fails under the frozen one.
 */
import { existsSync } from "node:fs";
import type { StepVariation } from "../runner/types.js";
import { VARIATION_MOUNT_ROOT } from "../runner/container-spec.js";

const CANDIDATES = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/faketime/libfaketime.so.1",
];
const TARGET = `${VARIATION_MOUNT_ROOT}/libfaketime.so.1`;

/** The host's libfaketime, or undefined (scripts/setup-host.sh faketime installs it). */
export function findFaketime(candidates: readonly string[] = CANDIDATES): string | undefined {
  return candidates.find((file) => existsSync(file));
}

/** The knobs that freeze the step's wall clock at `epoch` (whole seconds). */
export function frozenClock(library: string, epoch: number): StepVariation {
  return {
    readOnlyFiles: [{ source: library, target: TARGET }],
    env: {
      LD_PRELOAD: TARGET,
      FAKETIME: String(epoch),
      FAKETIME_FMT: "%s",
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
      NO_FAKE_STAT: "1",
    },
  };
}
