/** The `parameters` of a container step (contract, "Container steps"), validated: registry rows are untrusted. */
import { z } from "zod";
import { CONTENT_HASH_RE } from "../hashing/index.js";

export const DEFAULT_TIMEOUT_S = 3600;
export const DEFAULT_MEMORY_MB = 2048;

/** A plain file name under /in/ or /code/: no `/`, not `.` or `..`, no NUL. */
export const plainFileName = z
  .string()
  .min(1)
  .max(255)
  .refine((n) => !n.includes("/") && !n.includes("\0") && n !== "." && n !== "..", {
    error: "must be a plain file name (no '/', not '.' or '..')",
  });

const parametersSchema = z.object({
  code_hash: z.string().regex(CONTENT_HASH_RE, "must be sha256: followed by 64 lowercase hex digits"),
  code_name: plainFileName.default("main.py"),
  command: z
    .array(z.string().refine((s) => !s.includes("\0"), "must not contain NUL"))
    .min(1)
    .optional(),
  args: z.unknown().optional(),
  timeout_s: z
    .number()
    .positive()
    .max(7 * 24 * 3600)
    .optional(),
  memory_mb: z
    .number()
    .int()
    .min(16)
    .max(1024 * 1024)
    .optional(),
});

export interface ContainerParameters {
  codeHash: string;
  codeName: string;
  /** argv, never a shell string: shell metacharacters reach the step as plain characters. */
  command: string[];
  args: unknown;
  timeoutS: number;
  memoryMb: number;
}

export type ParsedParameters = { ok: true; value: ContainerParameters } | { ok: false; reason: string };

export function parseContainerParameters(raw: unknown): ParsedParameters {
  const parsed = parametersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `parameters.${issue.path.join(".")}` : "parameters";
    return { ok: false, reason: `${where} ${issue?.message ?? "is invalid"}` };
  }
  const p = parsed.data;
  return {
    ok: true,
    value: {
      codeHash: p.code_hash,
      codeName: p.code_name,
      command: p.command ?? ["python3", `/code/${p.code_name}`],
      args: p.args === undefined ? null : p.args,
      timeoutS: p.timeout_s ?? DEFAULT_TIMEOUT_S,
      memoryMb: p.memory_mb ?? DEFAULT_MEMORY_MB,
    },
  };
}
