/**
 * RFC 8785 (JCS) canonical JSON. JCS is defined on top of ECMAScript's JSON.stringify for
 * strings and numbers, so only the member order (by UTF-16 code units) needs doing here.
 *
 * Iterative, with its own stack: registry JSON nests as deep as PostgreSQL lets it (thousands of
 * levels), and a recursive walk would end in "Maximum call stack size exceeded".
 */

/**
 * A value JCS cannot encode. `path` names where it sits (member names and array indices); the
 * message is what is wrong with it, worded to follow that path: `args.x` + " is Infinity, ...".
 */
export class CanonicalJsonError extends Error {
  constructor(
    message: string,
    readonly path: readonly (string | number)[],
  ) {
    super(message);
    this.name = "CanonicalJsonError";
  }
}

/** A path in a message: `args.a[3]` for ["a", 3] under "args". */
export function jsonPathText(root: string, at: readonly (string | number)[]): string {
  let text = root;
  for (const key of at) {
    if (typeof key === "number") text += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) text += `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

/** A container being written: its members (object) or elements (array), consumed from `next`. */
interface Frame {
  array: readonly unknown[] | undefined;
  members: [string, unknown][];
  next: number;
  /** Where it sits in its parent (undefined for the root). */
  key: string | number | undefined;
}

/** The text of a value that is not a container; undefined for an object or array. */
function scalar(value: unknown): string | undefined {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" && Number.isFinite(value)) return JSON.stringify(value);
  if (typeof value === "object") return undefined;
  throw new CanonicalJsonError(
    typeof value === "number"
      ? `is ${value}, a number JCS cannot encode (JCS numbers are IEEE 754 doubles: a JSON number beyond their range, such as 1e400, reads as ${value})`
      : `is a value of type ${typeof value}, which JCS cannot encode`,
    [],
  );
}

function open(value: object, key: string | number | undefined): Frame {
  if (Array.isArray(value)) return { array: value as unknown[], members: [], next: 0, key };
  const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  // Default sort compares UTF-16 code units, which is what JCS asks for.
  members.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { array: undefined, members, next: 0, key };
}

export function canonicalJson(value: unknown): string {
  const stack: Frame[] = [];
  let key: string | number | undefined;
  try {
    const first = scalar(value);
    if (first !== undefined) return first;
    const parts: string[] = [Array.isArray(value) ? "[" : "{"];
    stack.push(open(value as object, undefined));
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as Frame;
      const { array, members } = frame;
      if (frame.next >= (array === undefined ? members.length : array.length)) {
        parts.push(array === undefined ? "}" : "]");
        stack.pop();
        continue;
      }
      const index = frame.next++;
      if (index > 0) parts.push(",");
      let child: unknown;
      if (array === undefined) {
        [key, child] = members[index] as [string, unknown];
        parts.push(JSON.stringify(key), ":");
      } else {
        key = index;
        child = array[index] ?? null; // as JSON.stringify: undefined in an array is null
      }
      const text = scalar(child);
      if (text !== undefined) {
        parts.push(text);
        continue;
      }
      parts.push(Array.isArray(child) ? "[" : "{");
      stack.push(open(child as object, key));
    }
    return parts.join("");
  } catch (error) {
    if (!(error instanceof CanonicalJsonError)) throw error;
    // Where it failed: the keys of the open containers below the root, then the value's own.
    const keys = stack.slice(1).map((f) => f.key as string | number);
    throw new CanonicalJsonError(error.message, key === undefined ? keys : [...keys, key]);
  }
}

/** "<root><path> <what is wrong>", e.g. `parameters.args.x is Infinity, ...`. */
export function describeJsonError(root: string, error: CanonicalJsonError): string {
  return `${jsonPathText(root, error.path)} ${error.message}`;
}
