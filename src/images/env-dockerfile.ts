/**
 * The Dockerfile of an environment image: the base plus the lock installed with the contract's
 * pip command. Exec-form RUN: the argv goes to pip as is, no shell parses an index URL.
 */

/** The contract's command ("Container steps"), in argv form. */
export const PIP_INSTALL_ARGV = [
  "pip",
  "install",
  "--break-system-packages",
  "--require-hashes",
  "--no-deps",
  "-r",
  "requirements.lock",
] as const;

export type WheelSource =
  { kind: "wheelhouse"; wheels: number } | { kind: "index"; url: string } | { kind: "default" };

export const BUILD_DIR = "/tmp/replay-build";

export function envDockerfile(baseRef: string, source: WheelSource): string {
  const argv: string[] = [...PIP_INSTALL_ARGV];
  if (source.kind === "wheelhouse") argv.push("--no-index", "--find-links", `${BUILD_DIR}/wheels`);
  if (source.kind === "index") argv.push("--index-url", source.url);
  return [
    `FROM ${baseRef}`,
    // ARGs reach RUN as environment but, unlike ENV, never the image config (so never a step's env).
    "ARG PIP_NO_CACHE_DIR=1",
    "ARG PIP_DISABLE_PIP_VERSION_CHECK=1",
    "ARG PIP_ROOT_USER_ACTION=ignore",
    "USER 0:0",
    `WORKDIR ${BUILD_DIR}`,
    `COPY requirements.lock ${BUILD_DIR}/requirements.lock`,
    // No pinned wheel in the wheelhouse: no COPY (it would fail on an empty folder); pip then
    // names the missing package itself, which is the better error.
    ...(source.kind === "wheelhouse" && source.wheels > 0 ? [`COPY wheels/ ${BUILD_DIR}/wheels/`] : []),
    `RUN ${JSON.stringify(argv)}`,
    // Back to the base's configuration: steps run as 65534 in /work.
    "WORKDIR /work",
    "USER 65534:65534",
    "",
  ].join("\n");
}
