/**
 * replay-diffoscope:bookworm, the image diffs run in. Built here, never pulled, like the base
 * image: on first use, when it is missing and this process may run mmdebstrap, by
 * scripts/build-diffoscope-image.sh (about two minutes), saying so on stderr.
 */
import { fileURLToPath } from "node:url";
import { ReplayError } from "../errors/index.js";
import { canBuildBaseImage, runImageBuildScript } from "../images/index.js";
import type { DockerEngine } from "../runner/index.js";

export const DIFFOSCOPE_IMAGE = "replay-diffoscope:bookworm";
/** The label the build script sets to `diffoscope --version`: the manifest's `diff.tool`. */
export const DIFFOSCOPE_LABEL = "org.replay-runner.diffoscope";
export const DIFFOSCOPE_IMAGE_HINT = "sudo bash scripts/setup-host.sh diffoscope-image";

/** Works from src/diagnose (tests) and dist/diagnose (the CLI): both are two levels below the package. */
export const BUILD_DIFFOSCOPE_IMAGE_SCRIPT = fileURLToPath(
  new URL("../../scripts/build-diffoscope-image.sh", import.meta.url),
);

export interface DiffoscopeImage {
  id: string;
  /** "diffoscope 240". */
  tool: string;
}

export interface DiffoscopeImageOptions {
  tag: string;
  log: (line: string) => void;
  script?: string | undefined;
  /** For tests: whether this process may run mmdebstrap (root, installed). */
  canBuild?: (() => boolean) | undefined;
}

const TOOL = /^diffoscope [0-9][0-9A-Za-z.+~-]{0,30}$/;

function asDiffoscopeImage(
  tag: string,
  info: { id: string; labels: Record<string, string> },
): DiffoscopeImage {
  const tool = info.labels[DIFFOSCOPE_LABEL] ?? "";
  if (!TOOL.test(tool)) {
    throw new ReplayError(
      "IMAGE_BUILD",
      `${tag} has no ${DIFFOSCOPE_LABEL} label naming a diffoscope version: it was not built by scripts/build-diffoscope-image.sh.`,
      { hint: `Remove it (docker rmi ${tag}) and run ${DIFFOSCOPE_IMAGE_HINT}.` },
    );
  }
  return { id: info.id, tool };
}

/** The image, built first when it is missing; throws IMAGE_BUILD when it is missing and cannot be built. */
export async function ensureDiffoscopeImage(
  engine: DockerEngine,
  options: DiffoscopeImageOptions,
): Promise<DiffoscopeImage> {
  const existing = await engine.inspectImage(options.tag);
  if (existing !== null) return asDiffoscopeImage(options.tag, existing);
  if (!(options.canBuild ?? canBuildBaseImage)()) {
    throw new ReplayError(
      "IMAGE_BUILD",
      `the image ${options.tag} is missing, and this process cannot build it (it needs root and mmdebstrap)`,
      { hint: DIFFOSCOPE_IMAGE_HINT },
    );
  }
  options.log(
    `${options.tag} is missing: building it offline from Debian's packages (mmdebstrap, about two minutes)...`,
  );
  await runImageBuildScript(
    options.script ?? BUILD_DIFFOSCOPE_IMAGE_SCRIPT,
    options.tag,
    DIFFOSCOPE_IMAGE_HINT,
  );
  const built = await engine.inspectImage(options.tag);
  if (built === null) {
    throw new ReplayError(
      "IMAGE_BUILD",
      `scripts/build-diffoscope-image.sh succeeded but ${options.tag} is not in the engine`,
      { hint: DIFFOSCOPE_IMAGE_HINT },
    );
  }
  const image = asDiffoscopeImage(options.tag, built);
  options.log(`${options.tag} built (${image.tool}, ${built.id}).`);
  return image;
}
