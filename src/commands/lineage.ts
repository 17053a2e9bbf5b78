/** `replay-runner lineage <artifact-id>`: the chain behind an artifact, as a tree or as JSON. */
import type { Command } from "commander";
import {
  chainToJson,
  isEnvironmentProblem,
  renderLineageTree,
  walkChain,
  type Chain,
} from "../chain/index.js";
import { EXIT, ReplayError, exitCodesHelp } from "../errors/index.js";
import { handlerFor } from "../handlers/index.js";
import { settingsOf, withRegistry } from "./command-context.js";
import { visibleJson, visibleText } from "../terminal/index.js";
import { styleFor } from "./terminal-style.js";

interface LineageOptions {
  json?: boolean;
}

const HELP_AFTER = `
Prints the artifact, then, below each artifact, the inputs of the step that produced it, up
to the frozen roots (ingest steps, and artifacts no step produced). Each line shows the
artifact id and type, the producing step's id, step_type and method, and its environment:
  [env pinned]    the environments row exists and still hashes to env_hash
  [env unpinned]  env_hash is NULL: the step ran outside the sandbox
  [env MISSING]   env_hash points at no environments row
  [env ALTERED]   the environments row no longer hashes to its env_hash
A step with several inputs branches (├─ └─), each branch labelled with its input name; an
artifact shared by several steps is printed once, then shown as "(see above)".

--json prints {"target", "steps", "unproduced_artifacts"} with the contract's column names
(steps producers first); see src/chain/chain-json.ts for every member.

Exit status: 0 when the chain is sound; 4 when it is printed but some step's environment is
MISSING or ALTERED (so scripts notice; the tree or JSON still goes to stdout, the error to
stderr); 4 without output when the rows do not form a chain (cycle, dangling reference,
two producers of one artifact, bad processing_step_inputs), every problem listed; 2 when
the artifact id is unknown.`;

function environmentProblems(chain: Chain): ReplayError | undefined {
  const bad = chain.steps.filter((cs) => isEnvironmentProblem(cs.environment));
  if (bad.length === 0) return undefined;
  const listed = bad.map(
    (cs) => `step ${cs.step.id} (${cs.environment.kind}, env_hash ${cs.step.envHash ?? "NULL"})`,
  );
  return new ReplayError(
    "REGISTRY_DATA",
    `${bad.length === 1 ? "1 step's environment is" : `${bad.length} steps' environments are`} missing, altered or invalid: ${listed.join(", ")}.`,
    {
      hint: "A replay cannot rebuild these steps' environments as recorded. Restore the environments rows (their env_hash must equal the hash of base_image, lockfile_kind and requirements_lock), or accept that these steps cannot be reproduced.",
      details: {
        artifactId: chain.target.id,
        steps: bad.map((cs) => ({
          step_id: cs.step.id,
          state: cs.environment.kind,
          env_hash: cs.step.envHash,
        })),
      },
    },
  );
}

export function registerLineageCommand(program: Command): void {
  program
    .command("lineage")
    .description(
      "show the provenance chain behind an artifact as a tree (or JSON), with each step's environment",
    )
    .argument("<artifact-id>", "the artifact whose upstream steps to show (artifacts.id)")
    .option("--json", "print the chain as JSON instead of a tree")
    .addHelpText("after", HELP_AFTER)
    .addHelpText(
      "after",
      `\n${exitCodesHelp([EXIT.ok, EXIT.usage, EXIT.infrastructure, EXIT.registryData, EXIT.internal])}`,
    )
    .action(async (artifactId: string, options: LineageOptions, command: Command) => {
      const settings = settingsOf(command);
      const chain = await withRegistry(settings, {}, (db) => walkChain(db, artifactId));
      if (options.json === true) {
        process.stdout.write(`${visibleJson(chainToJson(chain))}\n`);
      } else {
        process.stdout.write(
          renderLineageTree(chain, {
            style: styleFor(process.stdout),
            runsCode: (stepType) =>
              handlerFor(stepType)?.mode !== "builtin" && handlerFor(stepType)?.mode !== "frozen",
          }),
        );
      }
      const stderrStyle = styleFor(process.stderr);
      for (const artifact of chain.unproducedArtifacts) {
        process.stderr.write(
          `${stderrStyle.yellow("warning")}: artifact ${visibleText(artifact.id)} was produced by no recorded step; a replay takes it as it is\n`,
        );
      }
      const problem = environmentProblems(chain);
      if (problem !== undefined) throw problem;
    });
}
