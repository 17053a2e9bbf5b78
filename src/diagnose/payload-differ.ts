/** What explaining one mismatch takes and gives: the seam between the replay and the diff tools. */

export interface DiffRequest {
  /** Labels the diff's container, so that an interrupted run's reaper finds it. */
  runId: string;
  stepId: string;
  /** The artifact whose two versions are compared (for the built-in diff's file labels). */
  label: string;
  /** The recorded payload (the registry's blob) and the replayed one. */
  recordedFile: string;
  replayedFile: string;
  /** A file the packed reports may pass through; removed before diff() returns. */
  scratchFile: string;
  signal?: AbortSignal | undefined;
}

export interface DiffReport {
  /** "diffoscope 240", or "builtin". */
  tool: string;
  /** One line in plain words, sanitised and bounded. */
  explanation: string;
  text: string;
  html: string | null;
  json: string | null;
  /** A report was cut at its bound (ours or diffoscope's own). */
  truncated: boolean;
  /** Why the built-in diff stands in for diffoscope, when it does. */
  warnings: string[];
}

export interface PayloadDiffer {
  /** Never rejects for what the payloads hold: a diff that cannot be made is a report that says why. */
  diff(request: DiffRequest): Promise<DiffReport>;
}
