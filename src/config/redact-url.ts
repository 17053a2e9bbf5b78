/**
 * The one place that knows where a database URL keeps secrets, so that nothing printed,
 * stored or served (messages, the serve banner, manifest.json's `registry`, the replays table,
 * the API) ever shows one. Secrets: the userinfo password (`postgres://user:SECRET@host`) and
 * every parameter whose name contains "password" in any case (`password=`, `PASSWORD=`,
 * `sslpassword=`, percent-encoded names too), in URLs and in libpq's `key=value` strings.
 * Paths (`passfile=`, `sslkey=`, `sslcert=`) are not secrets: what those files hold is never
 * read into any text.
 */

const MASK = "***";

/** A parameter name that names a secret. */
const SECRET_KEY = /password/i;

/**
 * A parameter in a URL that does not parse, or in a libpq `key=value` string: its name, and its
 * value (quoted as libpq quotes, `key = 'a b\'c'`, or up to the next `&`, `;` or white space).
 */
const PARAMETER = /((?:^|[?&;\s])([\w%.+-]+)\s*=\s*)('(?:[^'\\]|\\.)*'?|[^&;\s]*)/g;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

interface Redaction {
  text: string;
  /** The hidden values, as written, decoded and encoded. */
  secrets: string[];
}

/** A hidden value as written, as a client would send it, and percent-encoded. */
function formsOf(value: string): string[] {
  const plain = decoded(value);
  return [value, plain, encodeURIComponent(plain)];
}

function redactParsed(url: URL): Redaction {
  const secrets: string[] = [];
  if (url.password !== "") {
    secrets.push(...formsOf(url.password));
    url.password = MASK;
  }
  if (url.search !== "") {
    // Rebuilt by hand: URLSearchParams would re-encode the other values (`/` as %2F).
    const parts = url.search.slice(1).split("&");
    url.search = parts
      .map((part) => {
        const eq = part.indexOf("=");
        if (eq < 0 || !SECRET_KEY.test(decoded(part.slice(0, eq).replace(/\+/g, " ")))) return part;
        const value = part.slice(eq + 1);
        secrets.push(...formsOf(value), ...formsOf(value.replace(/\+/g, " ")));
        return `${part.slice(0, eq + 1)}${MASK}`;
      })
      .join("&");
  }
  return { text: url.toString(), secrets };
}

/**
 * Neither a URL that parses nor a key=value string is trusted to be well-formed here, so this
 * hides more rather than less: everything after the first `:` of the text before the last `@`.
 */
function redactUnparsed(text: string): Redaction {
  const secrets: string[] = [];
  let out = text;
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^:@]*):(.*)@/is.exec(out);
  if (userinfo !== null) {
    const [whole, scheme = "", user = "", password = ""] = userinfo;
    secrets.push(...formsOf(password));
    out = `${scheme}${user}:${MASK}@${out.slice(whole.length)}`;
  }
  out = out.replace(PARAMETER, (match, head: string, name: string, value: string) => {
    if (!SECRET_KEY.test(decoded(name))) return match;
    // libpq's quoting: 'a b\'c' is the value a b'c.
    const unquoted = /^'.*'$/s.test(value) ? value.slice(1, -1).replace(/\\(.)/g, "$1") : value;
    secrets.push(...formsOf(value), ...formsOf(unquoted));
    return `${head}${MASK}`;
  });
  return { text: out, secrets };
}

function redaction(url: string): Redaction {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  return parsed === undefined ? redactUnparsed(url) : redactParsed(parsed);
}

/** `url` with every secret replaced by `***`: the only form of a database URL that is shown. */
export function redactDatabaseUrl(url: string): string {
  return redaction(url).text;
}

/** Secrets shorter than this are not searched for in other text: they would mangle words. */
const SHORTEST_SCRUBBED_SECRET = 4;

/**
 * `text` (a library's error message) with `url` and any secret of it replaced: node-postgres
 * is not known to echo its connection string, and this keeps it so if a version ever does.
 */
export function withoutDatabaseSecrets(text: string, url: string): string {
  const { text: redacted, secrets } = redaction(url);
  let out = text.split(url).join(redacted);
  const longestFirst = [...new Set(secrets)]
    .filter((s) => s.length >= SHORTEST_SCRUBBED_SECRET)
    .sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) out = out.split(secret).join(MASK);
  return out;
}
