/**
 * `replay-runner run <step-type> --input ... --code <script>`: run a script in the sandbox,
 * exactly as a replay will, and record the step and its output.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Option, type Command } from "commander";
import { z } from "zod";
import { BlobStore } from "../blobs/index.js";
import { EXIT, ReplayError, exitCodesHelp } from "../errors/index.js";
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, plainFileName } from "../handlers/index.js";
import { checkImageReference } from "../images/image-reference.js";
import { BASE_IMAGE } from "../images/types.js";
import { visibleLines } from "../terminal/index.js";
import {
  CONTAINER_STEP_TYPES,
  parseInputSpecs,
  parseStepArgs,
  prepareContainerStep,
  recordContainerStep,
  userArtifactId,
  withRecordRegistry,
  type EnvChoice,
} from "../record/index.js";
import { settingsOf } from "./command-context.js";
import { relayInterrupts } from "./interrupts.js";
import { reportRecorded } from "./record-output.js";
import { createReplayServices } from "./replay-services.js";
import { collect, parseOptions } from "./usage-error.js";

const HELP_AFTER = `
Inputs: one --input <artifact-id> makes a single-input step (the script reads /in/source);
--input <name>=<artifact-id>, repeated, makes named inputs in that order (/in/<name>,
recorded as processing_step_inputs). A merge step always takes named inputs. A name is a
plain file name: no '/', not '.' or '..', not params.json.

The script is stored in the blob store (parameters.code_hash) and runs as
python3 /code/<code-name> (code-name defaults to the script's file name). --args is any JSON
value (inline, or @file), recorded as parameters.args and given to the script as
/in/params.json. The step writes its result to /out/output.

Environment (the environments row):
  --env requirements.lock   the base image plus these pip packages (lockfile_kind pip;
                            pip's hash-checking format; wheels from REPLAY_WHEELHOUSE or
                            REPLAY_PIP_INDEX_URL when the image is built)
  (default)                 the base image alone (lockfile_kind none): pinned, no packages
  --no-env                  env_hash NULL, as for steps recorded outside the sandbox; a
                            replay warns that the environment was never pinned

The step runs through the same procedure a replay uses, with SOURCE_DATE_EPOCH set from the
recorded started_at, so a deterministic script reproduces byte for byte. When the step
fails (non-zero exit, timeout, out of memory, no /out/output) nothing is recorded and the
command exits 1 with the reason and the end of the script's stderr. Otherwise the artifact,
the step, its input rows and its environment are written in one transaction and the new
artifact id is printed on stdout.`;

const optionsSchema = z.object({
  input: z.array(z.string()).default([]),
  code: z.string({ error: "--code <script> is required" }).min(1, "--code must not be empty"),
  codeName: plainFileName.optional(),
  args: z.string().optional(),
  // commander: undefined (neither flag), a path (--env <file>), false (--no-env).
  env: z.union([z.string().min(1, "--env needs a requirements.lock path"), z.literal(false)]).optional(),
  baseImage: z
    .string()
    .default(BASE_IMAGE)
    .superRefine((ref, ctx) => {
      const check = checkImageReference(ref);
      if (!check.ok)
        ctx.addIssue({ code: "custom", message: `--base-image is not an image reference: ${check.problem}` });
    }),
  timeout: z.coerce
    .number({ error: "--timeout must be a number of seconds" })
    .positive("--timeout must be positive")
    .max(7 * 24 * 3600, "--timeout must be at most 7 days")
    .default(DEFAULT_TIMEOUT_S),
  memory: z.coerce
    .number({ error: "--memory must be a whole number of MiB" })
    .int("--memory must be a whole number of MiB")
    .min(16, "--memory must be at least 16 MiB")
    .max(1024 * 1024, "--memory must be at most 1 TiB")
    .default(DEFAULT_MEMORY_MB),
  type: z.string().min(1, "--type must not be empty").optional(),
  title: z.string().optional(),
  mediaType: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, "--media-type must look like type/subtype, e.g. image/svg+xml")
    .optional(),
  method: z.string().min(1).optional(),
  id: userArtifactId.optional(),
});

function checkStepType(stepType: string): void {
  if ((CONTAINER_STEP_TYPES as readonly string[]).includes(stepType)) return;
  const builtin: Record<string, string> = {
    ingest: "record files with `replay-runner add <file>`",
    fork: "use `replay-runner fork <artifact-id>`",
    cite: "use `replay-runner cite <artifact-id> --doi ... --title ...`",
  };
  throw new ReplayError(
    "USAGE",
    `\`run\` records container steps (${CONTAINER_STEP_TYPES.join(", ")}), not ${JSON.stringify(stepType)}.`,
    {
      hint: builtin[stepType] ?? `Choose one of ${CONTAINER_STEP_TYPES.join(", ")}.`,
    },
  );
}

function newRunId(): string {
  return `rec-${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "")}-${randomBytes(3).toString("hex")}`;
}

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description(
      "run a script over artifacts in the sandbox and record the step and its output; prints the new artifact id",
    )
    .argument("<step-type>", `the step type: ${CONTAINER_STEP_TYPES.join(", ")}`)
    .option("--input <[name=]artifact-id>", "an input artifact (repeat for named inputs)", collect)
    .option("--code <script>", "the script the step runs")
    .option("--code-name <name>", "its file name under /code/ (default: the script's file name)")
    .option("--args <json|@file>", "JSON handed to the script as /in/params.json")
    .option("--env <requirements.lock>", "pin pip packages (hash-checking lockfile)")
    .option("--no-env", "record no environment (env_hash NULL)")
    .option("--base-image <ref>", "the base image", BASE_IMAGE)
    .addOption(new Option("--timeout <seconds>", "wall-clock limit").default(DEFAULT_TIMEOUT_S))
    .addOption(new Option("--memory <mib>", "memory limit, no swap").default(DEFAULT_MEMORY_MB))
    .option(
      "--type <artifact-type>",
      "artifacts.artifact_type (default by step type: table, analysis_result, figure)",
    )
    .option("--title <title>", "artifacts.title")
    .option("--media-type <type>", "artifacts.media_type, e.g. image/svg+xml")
    .option("--method <text>", "processing_steps.method (default: the step type and command)")
    .option("--id <artifact-id>", "choose the artifact id instead of a random art-<12 hex>")
    .addHelpText("after", HELP_AFTER)
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.notReproduced, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.integrity, EXIT.output, EXIT.internal, EXIT.sigint, EXIT.sigterm])}`,
    )
    .action(async (stepType: string, raw: unknown, command: Command) => {
      checkStepType(stepType);
      const options = parseOptions(optionsSchema, raw, "run");
      const inputs = parseInputSpecs(options.input, stepType);
      const args = await parseStepArgs(options.args);
      const env: EnvChoice =
        options.env === false
          ? { kind: "none" }
          : options.env === undefined
            ? { kind: "base" }
            : { kind: "lockfile", file: options.env };
      const codeName = options.codeName ?? path.basename(options.code);
      const named = plainFileName.safeParse(codeName);
      if (!named.success) {
        throw new ReplayError(
          "USAGE",
          `The script's name ${JSON.stringify(codeName)} is not a plain file name.`,
          {
            hint: "Give --code-name, e.g. --code-name main.py.",
          },
        );
      }
      const settings = settingsOf(command);
      const blobs = new BlobStore(settings.blobRoot);
      const runId = newRunId();
      await using interrupts = relayInterrupts();
      const log = (line: string) => process.stderr.write(`${visibleLines(line)}\n`);
      const record = await withRecordRegistry(settings, async (db) => {
        // Refuse what a user can get wrong before Docker is even contacted.
        const prepared = await prepareContainerStep(
          { db, blobs },
          {
            stepType,
            inputs,
            codeFile: options.code,
            codeName,
            args,
            env,
            baseImage: options.baseImage,
            timeoutS: options.timeout,
            memoryMb: options.memory,
            artifactType: options.type,
            title: options.title,
            mediaType: options.mediaType,
            method: options.method,
            id: options.id,
          },
        );
        // With the signal, an interrupted run's container is removed when the services are released.
        await using services = await createReplayServices(settings, {
          log,
          runId,
          signal: interrupts.signal,
          db,
        });
        await services.preflight();
        // Awaited here: `await using` must not release the engine before the step finishes.
        return await recordContainerStep(
          {
            db,
            blobs,
            executor: services.executor,
            images: services.images,
            runId,
            signal: interrupts.signal,
            log,
          },
          prepared,
        );
      });
      reportRecorded(record);
    });
}
