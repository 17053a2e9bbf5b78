/**
 * The plan of a replay, before anything runs: the chain (one walk), the steps that will run
 * (all, or those from --from on), and the frozen inputs consumed as recorded. Shared by the
 * replay itself and by `rerun --dry-run`, so the dry run shows exactly what a replay would do.
 */
import type { BlobCheck, BlobStore } from "../blobs/index.js";
import { walkChain } from "../chain/index.js";
import type { Chain, ChainStep } from "../chain/types.js";
import type { SqlQueryable } from "../db/index.js";
import { ReplayError } from "../errors/index.js";
import { handlerFor, parseContainerParameters } from "../handlers/index.js";
import { isContentHash } from "../hashing/index.js";
import type { FrozenInput } from "./manifest.js";

export interface ReplayPlan {
  chain: Chain;
  /** The steps that run, in topological order. */
  executed: ChainStep[];
  /** Payloads consumed as recorded rather than replayed, by artifact id. */
  frozen: Map<string, FrozenInput>;
  willRun: (stepId: string) => boolean;
}

function ancestorsOf(chain: Chain, stepId: string): Set<string> {
  const byId = new Map(chain.steps.map((s) => [s.step.id, s]));
  const seen = new Set<string>();
  const stack = [...(byId.get(stepId)?.upstreamStepIds ?? [])];
  while (stack.length > 0) {
    const id = stack.pop();
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    stack.push(...(byId.get(id)?.upstreamStepIds ?? []));
  }
  return seen;
}

export function describeBadBlob(
  check: Exclude<BlobCheck, { state: "intact" }>,
  artifactId: string,
  recorded: string,
): string {
  return check.state === "missing"
    ? `frozen input ${artifactId}: blob ${recorded} is missing (${check.path})`
    : `frozen input ${artifactId}: blob bytes hash to ${check.actualHash}, the registry records ${recorded}`;
}

export async function planReplay(
  db: SqlQueryable,
  options: { artifactId: string; from?: string | undefined },
): Promise<ReplayPlan> {
  return planFromChain(await walkChain(db, options.artifactId), options);
}

/**
 * The plan of a chain already walked (`verify` walks many at once, and gives the union's
 * lookup of the step producing each artifact, which is the chain's own for its artifacts).
 */
export function planFromChain(
  chain: Chain,
  options: { artifactId: string; from?: string | undefined },
  producerOf: (artifactId: string) => ChainStep | undefined = producersOf(chain),
): ReplayPlan {
  let frozenByFrom = new Set<string>();
  if (options.from !== undefined) {
    if (!chain.steps.some((s) => s.step.id === options.from)) {
      throw new ReplayError(
        "NOT_FOUND",
        `Step ${options.from} is not in the chain behind ${options.artifactId}.`,
        {
          hint: `\`replay-runner lineage ${options.artifactId}\` lists the steps that --from can name.`,
          details: { step_id: options.from, artifact_id: options.artifactId },
        },
      );
    }
    frozenByFrom = ancestorsOf(chain, options.from);
  }
  const executed = chain.steps.filter((s) => !frozenByFrom.has(s.step.id));
  const willRun = (stepId: string) => !frozenByFrom.has(stepId);

  const frozen = new Map<string, FrozenInput>();
  const addFrozen = (artifactId: string, contentHash: string, why: string) => {
    if (!frozen.has(artifactId))
      frozen.set(artifactId, { artifact_id: artifactId, content_hash: contentHash, why });
  };
  for (const cs of executed) {
    if (cs.step.stepType === "ingest")
      addFrozen(cs.target.id, cs.target.contentHash, `ingested by ${cs.step.id}`);
    for (const input of cs.inputs) {
      const producer = producerOf(input.artifact.id);
      if (producer === undefined)
        addFrozen(input.artifact.id, input.artifact.contentHash, "no step in the registry produced it");
      else if (!willRun(producer.step.id))
        addFrozen(input.artifact.id, input.artifact.contentHash, `upstream of --from ${options.from ?? ""}`);
      else if (
        handlerFor(producer.step.stepType)?.mode === "unreplayable" ||
        handlerFor(producer.step.stepType) === undefined
      )
        addFrozen(
          input.artifact.id,
          input.artifact.contentHash,
          `produced by unreplayable step ${producer.step.id} (${producer.step.stepType})`,
        );
    }
  }
  return { chain, executed, frozen, willRun };
}

function producersOf(chain: Chain): (artifactId: string) => ChainStep | undefined {
  const byTarget = new Map(chain.steps.map((s) => [s.step.targetArtifactId, s]));
  return (artifactId) => byTarget.get(artifactId);
}

/**
 * What --strict (and --dry-run) check before anything runs: every frozen input's blob and
 * every script the running steps need is present and hashes to what the registry records.
 */
export async function integrityProblems(plan: ReplayPlan, blobs: BlobStore): Promise<string[]> {
  const problems: string[] = [];
  const codeHashes = new Set<string>();
  for (const cs of plan.executed) {
    const params =
      handlerFor(cs.step.stepType)?.mode === "container"
        ? parseContainerParameters(cs.step.parameters)
        : null;
    if (params?.ok === true) codeHashes.add(params.value.codeHash);
  }
  const checks = [
    ...[...plan.frozen.values()].map((f) => ({ id: f.artifact_id, hash: f.content_hash })),
    ...[...codeHashes].map((h) => ({ id: `code ${h}`, hash: h })),
  ];
  for (const { id, hash } of checks) {
    if (!isContentHash(hash)) {
      problems.push(`frozen input ${id}: recorded hash "${hash}" is not a sha256: content hash`);
      continue;
    }
    const check = await blobs.check(hash);
    if (check.state !== "intact") problems.push(describeBadBlob(check, id, hash));
  }
  return problems;
}
