/** The `parameters` of a container step (contract, "Container steps"), validated: registry rows are untrusted. */
import { z } from "zod";
import { CONTENT_HASH_RE } from "../hashing/index.js";

export const DEFAULT_TIMEOUT_S = 3600;
export const DEFAULT_MEMORY_MB = 2048;

/** A file name holds at most this many bytes (NAME_MAX), whatever the characters. */
const NAME_MAX_BYTES = 255;

/** A plain file name under /in/ or /code/: no `/`, not `.` or `..`, no NUL, at most 255 bytes. */
export const plainFileName = z
  .string()
  .min(1)
  .superRefine((n, ctx) => {
    if (n.includes("/") || n.includes("\0") || n === "." || n === "..") {
      ctx.addIssue({ code: "custom", message: "must be a plain file name (no '/', not '.' or '..')" });
      return;
    }
    // Counted in bytes: 200 "é" are 400 bytes, which no file system takes as a name.
    const bytes = Buffer.byteLength(n, "utf8");
    if (bytes > NAME_MAX_BYTES) {
      ctx.addIssue({
        code: "custom",
        message: `must be at most ${NAME_MAX_BYTES} bytes long in UTF-8, as a file name is (this one has ${bytes})`,
      });
    }
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
    // Timers count whole milliseconds: a shorter limit could only be reported falsely.
    .min(0.001, "must be at least 0.001 (one millisecond): a shorter limit cannot be enforced")
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
