/** zod at the HTTP boundary: a failed parse is a ReplayError("USAGE") that names the field. */
import type { z } from "zod";
import { ReplayError } from "../errors/index.js";

export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: "body" | "params" | "headers" | "query",
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const field = [...issue.path.map(String), ...(keys.length > 0 ? [keys.join(", ")] : [])].join(".");
    const message =
      issue.code === "unrecognized_keys"
        ? `is not a known member (known: from, strict, diff, triage, repeat)`
        : issue.message;
    return { field, message };
  });
  const first = problems[0];
  const name = first === undefined || first.field === "" ? where : `${where}.${first.field}`;
  throw new ReplayError("USAGE", `${name}: ${first?.message ?? "is invalid"}`, {
    hint:
      where === "body"
        ? 'The body is optional JSON: {"from": "<step id>", "strict": true|false, "diff": true|false, "triage": true|false|"all", "repeat": 2..20}.'
        : undefined,
    details: { field: first?.field ?? "", in: where, errors: problems },
  });
}
