/**
 * What selects a batch's targets, shared by `verify` and `serve --verify-selection`: the same
 * commander options, the same zod schema and the same checks, so a scheduled selection means
 * exactly what the same words mean after `replay-runner verify`.
 */
import { Command, CommanderError, Option } from "commander";
import { z } from "zod";
import { ReplayError } from "../errors/index.js";
import type { BatchSelection } from "../fleet/index.js";
import { parseOptions } from "./usage-error.js";

export const whole = (flag: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${flag} must be a whole number` })
    .int(`${flag} must be a whole number`)
    .min(min, `${flag} must be at least ${min}`)
    .max(max, `${flag} must be at most ${max}`);

export const selectionSchema = z.object({
  all: z.boolean().default(false),
  type: z.string().min(1, "--type must not be empty").optional(),
  recordedSince: z
    .union([z.iso.date(), z.iso.datetime({ offset: true })], {
      error: "--recorded-since must be a date (2026-12-01) or an ISO 8601 time (2026-12-01T08:00:00Z)",
    })
    .transform((text) => new Date(text))
    .optional(),
  sample: whole("--sample", 1, 10_000_000).optional(),
  seed: z.string().min(1, "--seed must not be empty").optional(),
  maxSteps: whole("--max-steps", 1, 100_000_000).optional(),
});

export type SelectionOptions = z.infer<typeof selectionSchema>;

/** The artifact-id argument and the selection options, in the order `verify --help` lists them. */
export function addSelectionOptions(command: Command): Command {
  return command
    .argument("[artifact-id...]", "the artifacts to verify (or --all, --type, --recorded-since)")
    .option("--all", "every artifact in the registry")
    .option("--type <type>", "only artifacts of this artifact_type")
    .option("--recorded-since <date>", "only artifacts the registry recorded at or after this date or time")
    .addOption(
      new Option(
        "--sample <n>",
        "a reproducible random sample of n of the selected artifacts (needs --seed)",
      ),
    )
    .option(
      "--seed <text>",
      "the sample's seed: the same seed over the same selection picks the same artifacts",
    )
    .addOption(
      new Option(
        "--max-steps <n>",
        "plan targets (in id order) until their distinct steps would pass n; the rest are left out and named",
      ),
    );
}

function usage(message: string, hint: string): ReplayError {
  return new ReplayError("USAGE", message, { hint });
}

export function checkSelection(artifactIds: readonly string[], opts: SelectionOptions): void {
  if (artifactIds.length > 0 && opts.all)
    throw usage("Name artifacts or give --all, not both.", "Leave out the ids to verify every artifact.");
  if (artifactIds.length === 0 && !opts.all && opts.type === undefined && opts.recordedSince === undefined)
    throw usage(
      "Nothing is selected: name artifacts, or give --all, --type or --recorded-since.",
      "e.g. `replay-runner verify --all`, or `replay-runner verify --type figure --sample 20 --seed nightly`.",
    );
  if (opts.sample !== undefined && opts.seed === undefined)
    throw usage(
      "--sample needs --seed: the seed makes the sample reproducible.",
      "Add --seed S (any text); the same seed over the same selection picks the same sample.",
    );
  if (opts.seed !== undefined && opts.sample === undefined)
    throw usage("--seed chooses a --sample; it does nothing alone.", "Add --sample N, or leave --seed out.");
}

export function batchSelectionOf(artifactIds: readonly string[], opts: SelectionOptions): BatchSelection {
  return {
    selection: {
      artifactIds: [...artifactIds],
      // --type or --recorded-since without ids narrow every artifact.
      all: opts.all || artifactIds.length === 0,
      type: opts.type,
      recordedSince: opts.recordedSince,
      sample:
        opts.sample === undefined || opts.seed === undefined
          ? undefined
          : { size: opts.sample, seed: opts.seed },
    },
    maxSteps: opts.maxSteps,
  };
}

const FLAG = "--verify-selection";
const TAKES = "artifact ids, --all, --type, --recorded-since, --sample, --seed, --max-steps";
const EXAMPLE = `e.g. ${FLAG} "--type figure --sample 50 --seed nightly" (the words \`replay-runner verify\` takes to select).`;

/**
 * Words as a command line splits them, without a shell: whitespace separates, a pair of single
 * or double quotes keeps what it holds together (no escapes, no variables, no globs).
 */
export function selectionWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const c of text) {
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else word = (word ?? "") + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= "";
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote !== undefined)
    throw usage(`${FLAG}: a ${quote} quote is not closed.`, `Close it, or leave quotes out. ${EXAMPLE}`);
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * `serve --verify-selection TEXT`: TEXT is what follows `replay-runner verify` to select (ids and
 * the selection options), parsed by the same commander options, zod schema and checks; every
 * message starts with --verify-selection.
 */
export function parseVerifySelection(text: string): BatchSelection {
  const words = selectionWords(text);
  const parser = addSelectionOptions(new Command(FLAG))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .helpOption(false)
    .allowExcessArguments(false);
  try {
    parser.parse(words, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const message = error.message.replace(/^error: /, "");
    throw usage(`${FLAG}: ${message}; it takes ${TAKES}.`, EXAMPLE);
  }
  const artifactIds = parser.processedArgs[0] as string[];
  let opts: SelectionOptions;
  try {
    opts = parseOptions(selectionSchema, parser.opts(), "serve");
  } catch (error) {
    throw error instanceof ReplayError ? usage(`${FLAG}: ${error.message}`, EXAMPLE) : error;
  }
  try {
    checkSelection(artifactIds, opts);
  } catch (error) {
    if (!(error instanceof ReplayError)) throw error;
    // verify's hint names `replay-runner verify`; "nothing is selected" gets this flag's example.
    const hint = error.message.startsWith("Nothing is selected") ? EXAMPLE : error.hint;
    throw usage(`${FLAG}: ${error.message}`, hint ?? EXAMPLE);
  }
  return batchSelectionOf(artifactIds, opts);
}
