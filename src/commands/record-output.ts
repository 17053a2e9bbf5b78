/**
 * What the record commands print: the new artifact id alone on stdout (so scripts can write
 * `id=$(replay-runner add data.csv)`), and one human line on stderr.
 */
import type { NewRecord } from "../record/index.js";
import { styleFor } from "./terminal-style.js";
import { shortContentHash } from "../hashing/index.js";
import { visibleText as v } from "../terminal/index.js";

export function reportRecorded(record: NewRecord): void {
  const { artifact, step } = record;
  const style = styleFor(process.stderr);
  process.stderr.write(
    `${style.green("recorded")} ${v(artifact.id)} (${v(artifact.artifactType)}, ${artifact.sizeBytes} bytes, ${shortContentHash(artifact.contentHash)}) by ${v(step.stepType)} step ${v(step.id)}\n`,
  );
  process.stdout.write(`${artifact.id}\n`);
}
