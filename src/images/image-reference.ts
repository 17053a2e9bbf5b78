/**
 * Docker image references, checked before anything reaches the engine. A registry row's
 * `base_image` is hostile text: an empty one made the engine answer a redirect that dockerode
 * followed to the host "images" (an uncaught ENOTFOUND), a space or newline an error from
 * deep inside the HTTP client. Nothing that fails here is ever sent to the engine.
 *
 * The grammar is docker/distribution's `reference` package (regexp.go, reference.go,
 * normalize.go), as the engine itself parses names (ParseNormalizedNamed):
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain "/"] remote-name
 *   domain           := host [":" port-number]
 *   host             := domain-name | "[" IPv6address "]"
 *   domain-name      := domain-component ["." domain-component]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   port-number      := /[0-9]+/
 *   remote-name      := path-component ["/" path-component]*
 *   path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*
 *   separator        := /[_.]|__|[-]+/
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := algorithm ":" hex   (algorithm /[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*\/, hex /[0-9a-fA-F]{32,}/)
 *
 * plus its rules beyond the grammar: the repository path is at most 255 characters, must be
 * lowercase, is not a 64-digit hex string (that is an image id), and a digest must use a
 * registered algorithm with its exact length of lowercase hex (go-digest).
 */

const ALPHANUMERIC = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6_ADDRESS = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;

const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;

/** go-digest's registered algorithms and the length of their hex encoding. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

export const REPOSITORY_NAME_MAX = 255;

export interface ImageReference {
  /** As the engine normalises it: `replay-base:bookworm` is docker.io, library/replay-base. */
  domain: string | null;
  path: string;
  tag: string | null;
  digest: string | null;
}

export type ImageReferenceCheck = { ok: true; reference: ImageReference } | { ok: false; problem: string };

/** The first character no reference can contain, described so that a terminal shows it safely. */
function strayCharacter(text: string): string | undefined {
  const index = text.search(/[^A-Za-z0-9._\-:/@[\]+]/);
  if (index < 0) return undefined;
  const code = text.codePointAt(index) ?? 0;
  const named: Record<number, string> = {
    0x20: "a space",
    0x0a: "a newline",
    0x0d: "a carriage return",
    0x09: "a tab",
  };
  const what = named[code] ?? `the character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return `${what} at position ${index + 1}`;
}

/** Docker's split of a familiar name into domain and remote name (normalize.go, splitDockerDomain). */
function normalizedName(text: string): string {
  const slash = text.indexOf("/");
  if (slash < 0) return `docker.io/library/${text}`;
  const first = text.slice(0, slash);
  const rest = text.slice(slash + 1);
  if (first === "localhost" || /[.:]/.test(first) || first.toLowerCase() !== first) return text;
  if (first === "index.docker.io") return `docker.io/${rest.includes("/") ? rest : `library/${rest}`}`;
  return `docker.io/${text}`;
}

/** Checks `text` as the Docker engine would parse it as an image name; says what is wrong when it is not one. */
export function checkImageReference(text: string): ImageReferenceCheck {
  if (text === "")
    return { ok: false, problem: "it is empty (a repository name needs at least one component)" };
  const stray = strayCharacter(text);
  if (stray !== undefined) return { ok: false, problem: `it contains ${stray}` };
  if (IDENTIFIER.test(text)) {
    return {
      ok: false,
      problem: "it is a 64-digit hexadecimal string, which Docker takes for an image id, not a name",
    };
  }
  const normalized = normalizedName(text);
  const slash = normalized.indexOf("/");
  const remainder = normalized.slice(slash + 1);
  const remote = remainder.split(/[:@]/, 1)[0] ?? remainder;
  if (remote.toLowerCase() !== remote)
    return { ok: false, problem: `its repository name "${remote}" must be lowercase` };
  const match = REFERENCE.exec(normalized);
  if (match === null) {
    return {
      ok: false,
      problem:
        "it is not in Docker's reference format [host[:port]/]name[:tag][@digest] (name: lowercase letters and digits, separated by '.', '_', '__' or '-'; tag: at most 128 of letters, digits, '_', '.' and '-', not starting with '.' or '-')",
    };
  }
  const [, name = "", tag, digest] = match;
  const parts = ANCHORED_NAME.exec(name);
  const path = parts?.[2] ?? name;
  if (path.length > REPOSITORY_NAME_MAX) {
    return {
      ok: false,
      problem: `its repository name is ${path.length} characters long; at most ${REPOSITORY_NAME_MAX} are allowed`,
    };
  }
  if (digest !== undefined) {
    const [algorithm = "", hex = ""] = digest.split(":");
    const length = DIGEST_HEX_LENGTH[algorithm];
    if (length === undefined)
      return {
        ok: false,
        problem: `its digest algorithm "${algorithm}" is not one Docker knows (sha256, sha384, sha512)`,
      };
    if (!new RegExp(`^[a-f0-9]{${length}}$`).test(hex)) {
      return { ok: false, problem: `its ${algorithm} digest must be ${length} lowercase hexadecimal digits` };
    }
  }
  return {
    ok: true,
    reference: { domain: parts?.[1] ?? null, path, tag: tag ?? null, digest: digest ?? null },
  };
}

/**
 * A reference as it can be shown in a message: quoted, bounded, and with everything but
 * printable ASCII written as an escape (it may hold control characters meant for a terminal).
 */
export function quotedReference(text: string, max = 120): string {
  const shown = text
    .slice(0, max)
    .replace(/["\\]/g, "\\$&")
    .replace(/\n/g, "\\n")
    .replace(/[^\x20-\x7e]/gu, (c) => {
      const code = c.codePointAt(0) ?? 0;
      return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
    });
  return text.length > max ? `"${shown}…" (${text.length} characters)` : `"${shown}"`;
}
