/** Turns a zod failure on a command's options into the USAGE error every command reports. */
import type { z } from "zod";
import { ReplayError } from "../errors/index.js";

export function parseOptions<T>(schema: z.ZodType<T>, raw: unknown, command: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ReplayError("USAGE", parsed.error.issues.map((i) => i.message).join("; "), {
    hint: `See \`replay-runner ${command} --help\`.`,
  });
}

/** Commander collector for options given several times (--input, --author). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
