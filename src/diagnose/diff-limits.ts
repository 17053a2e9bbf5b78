/**
 * What one diff may cost, whatever the payloads hold: diffoscope's own limits, the container's
 * (the step sandbox's, container-spec.ts), and the wall clock around it. docs/decisions.md says why
 * these numbers.
 */

export interface DiffLimits {
  /** The whole diff, container start to packed reports; diffoscope is stopped at this. */
  wallSeconds: number;
  /** Memory of the diff's container (no swap); diffoscope holds a helper's whole output. */
  memoryBytes: number;
  /**
   * The largest file anything in the container may write (the sandbox's `fsize` limit): a
   * member diffoscope unpacks into /tmp (a tmpfs of at most 1 GiB), and the packed reports.
   */
  scratchBytes: number;
  /** Each report (text, HTML, JSON) as written under diffs/: longer ones are cut. */
  reportBytes: number;
  /** diffoscope --max-diff-block-lines: lines of one run of changes kept in a report. */
  maxDiffBlockLines: number;
  /** diffoscope --max-container-depth: archives inside archives it opens. */
  maxContainerDepth: number;
}

export const DEFAULT_DIFF_LIMITS: DiffLimits = {
  wallSeconds: 180,
  memoryBytes: 4 * 2 ** 30,
  scratchBytes: 2 ** 30,
  reportBytes: 8 * 2 ** 20,
  maxDiffBlockLines: 1024,
  maxContainerDepth: 8,
};

/** The container's own limit: the wall clock plus time to start it and pack the reports. */
export function containerTimeoutMs(limits: DiffLimits): number {
  return (limits.wallSeconds + 30) * 1000;
}

/**
 * diffoscope's --timeout (best effort: it stops opening further archives after it): half the
 * wall clock, so that what it found so far still becomes a report before the wall clock stops it.
 */
export function diffoscopeTimeoutSeconds(limits: DiffLimits): number {
  return Math.max(1, Math.floor(limits.wallSeconds / 2));
}
