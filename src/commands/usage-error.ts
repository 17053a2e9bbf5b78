/** Turns a zod failure on a command's options into the USAGE error every command reports. */
import type { z } from "zod";
import { ReplayError } from "../errors/index.js";

/** Every message names its flag: zod's own wording ("Too small: ...") does not. */
function issueText(issue: z.core.$ZodIssue): string {
  const key = issue.path[0];
  if (typeof key !== "string") return issue.message;
  const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return issue.message.startsWith(flag) ? issue.message : `${flag}: ${issue.message}`;
}

export function parseOptions<T>(schema: z.ZodType<T>, raw: unknown, command: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ReplayError("USAGE", parsed.error.issues.map(issueText).join("; "), {
    hint: `See \`replay-runner ${command} --help\`.`,
  });
}

/** Commander collector for options given several times (--input, --author). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
