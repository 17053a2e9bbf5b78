/**
 * A chain as an indented tree, from the target upward: each artifact's line names the step
 * that produced it, and the lines below it are that step's inputs. A step with one input
 * continues at the same indentation (a long linear chain stays readable instead of drifting
 * right by one level per step); a step with several inputs branches with ├─ / └─, each
 * labelled with its input name. An artifact reached a second time (a diamond) is printed
 * once and then referenced with "(see above)".
 *
 *   fig (figure) <- step render-1: render "Draw" [env pinned]
 *   tbl (table) <- step merge-1: merge "Merge" [env unpinned]
 *   ├─ a.csv: clean-a (table) <- step clean-a: transform "Clean" [env pinned]
 *   │  raw (dataset) <- step ingest-raw: ingest "Fetch" [env unpinned] [frozen root: ingest]
 *   └─ b.csv: raw (dataset) (see above)
 *
 * Every id, type, method and input name is the registry's text, made visible before it is styled.
 */
import type { Artifact, Chain, ChainStep, EnvironmentState } from "./types.js";
import { shortContentHash } from "../hashing/index.js";
import { visibleText as v } from "../terminal/index.js";

export interface TreeStyle {
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
}

const PLAIN: TreeStyle = { red: (t) => t, yellow: (t) => t, dim: (t) => t };

export function environmentLabel(state: EnvironmentState, style: TreeStyle = PLAIN): string {
  switch (state.kind) {
    case "pinned":
      return "[env pinned]";
    case "unpinned":
      return style.yellow("[env unpinned]");
    case "missing":
      return style.red(`[env MISSING: ${shortContentHash(state.envHash)} has no environments row]`);
    case "altered":
      return style.red(
        `[env ALTERED: row ${shortContentHash(state.environment.envHash)} now hashes to ${shortContentHash(state.actualHash)}]`,
      );
    case "invalid":
      return style.red(
        `[env INVALID: row ${shortContentHash(state.environment.envHash)} has a base_image that is no image reference]`,
      );
  }
}

export interface TreeOptions {
  style?: TreeStyle;
  /**
   * Whether a step type runs code in a container. An unpinned environment only matters for
   * those: `ingest`, `fork` and `cite` never had one. Default: every step type does.
   */
  runsCode?: (stepType: string) => boolean;
}

function describe(
  artifact: Artifact,
  producer: ChainStep | undefined,
  options: Required<TreeOptions>,
): string {
  const { style } = options;
  const head = `${v(artifact.id)} (${v(artifact.artifactType)})`;
  if (producer === undefined) return `${head} ${style.yellow("[frozen root: not produced by any step]")}`;
  const s = producer.step;
  const envIrrelevant = producer.environment.kind === "unpinned" && !options.runsCode(s.stepType);
  const env = envIrrelevant ? "" : ` ${environmentLabel(producer.environment, style)}`;
  const line = `${head} <- step ${v(s.id)}: ${v(s.stepType)} ${v(JSON.stringify(s.method))}${env}`;
  return s.stepType === "ingest" ? `${line} ${style.yellow("[frozen root: ingest]")}` : line;
}

interface Pending {
  artifact: Artifact;
  /** Input name shown before the id, on branches of multi-input steps. */
  label: string | null;
  /** Drawn before this node's line: indentation plus its branch connector. */
  linePrefix: string;
  /** Indentation for the lines of this node's inputs. */
  childIndent: string;
}

export function renderLineageTree(chain: Chain, treeOptions: TreeOptions = {}): string {
  const options: Required<TreeOptions> = { style: PLAIN, runsCode: () => true, ...treeOptions };
  const { style } = options;
  const producerOf = new Map(chain.steps.map((cs) => [cs.step.targetArtifactId, cs]));
  const printed = new Set<string>();
  const lines: string[] = [];
  // Iterative depth-first, pre-order: the first occurrence of a shared artifact is always
  // printed above any "(see above)" reference to it.
  const stack: Pending[] = [{ artifact: chain.target, label: null, linePrefix: "", childIndent: "" }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const label = node.label === null ? "" : `${v(node.label)}: `;
    if (printed.has(node.artifact.id)) {
      lines.push(
        `${node.linePrefix}${label}${v(node.artifact.id)} (${v(node.artifact.artifactType)}) ${style.dim("(see above)")}`,
      );
      continue;
    }
    printed.add(node.artifact.id);
    const producer = producerOf.get(node.artifact.id);
    lines.push(`${node.linePrefix}${label}${describe(node.artifact, producer, options)}`);
    const inputs = producer?.inputs ?? [];
    const children: Pending[] =
      inputs.length === 1 && inputs[0] !== undefined
        ? [
            {
              artifact: inputs[0].artifact,
              label: producer?.multiInput === true ? inputs[0].name : null,
              linePrefix: node.childIndent,
              childIndent: node.childIndent,
            },
          ]
        : inputs.map((input, i) => {
            const last = i === inputs.length - 1;
            return {
              artifact: input.artifact,
              label: input.name,
              linePrefix: `${node.childIndent}${last ? "└─ " : "├─ "}`,
              childIndent: `${node.childIndent}${last ? "   " : "│  "}`,
            };
          });
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Pending);
  }
  return `${lines.join("\n")}\n`;
}
