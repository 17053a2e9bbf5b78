/**
 * docs/registry-contract.md is the contract as users read it (issue 12, item 13: the docs
 * pointed at a file outside the project). Its worked example and its defaults are what the
 * code computes: the page and the code cannot drift apart.
 */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BlobStore } from "../../src/blobs/index.js";
import { CONTRACT_TABLES } from "../../src/db/index.js";
import {
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_S,
  citationBytes,
  parseContainerParameters,
  stepEnvironment,
} from "../../src/handlers/index.js";
import { canonicalJson, contentHashOf, envHashOf, inputHashOf } from "../../src/hashing/index.js";
import { PIDS_LIMIT, STEP_USER } from "../../src/runner/index.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const doc = () => readFile(path.join(repoRoot, "docs/registry-contract.md"), "utf8");

const READINGS = "city,temp_c\nOslo,4.5\nLima,19.0\n";
const STATIONS = "city,lat\nOslo,59.9\nLima,-12.0\n";

describe("docs/registry-contract.md", () => {
  it("has the worked example's values as the code computes them", async () => {
    const text = await doc();
    const readings = contentHashOf(READINGS);
    const stations = contentHashOf(STATIONS);
    const blobFile = new BlobStore("/BLOB-ROOT").pathFor(readings).replace("/BLOB-ROOT", "<blob root>");
    const lines = `readings=${readings}\nstations=${stations}\n`;
    const envText = "replay-base:bookworm\nnone\n";
    const args = parseContainerParameters({
      code_hash: readings,
      args: { min_c: -60, drop: ["Lima"], é: 1.5 },
    });
    if (!args.ok) throw new Error(args.reason);
    const citation = citationBytes(
      { doi: "10.1234/x", title: "Mean temperature", authors: ["Ada"] },
      readings,
    ).toString("utf8");

    const expected = [
      `The payload of \`readings\` is the ${Buffer.byteLength(READINGS)} bytes \`${READINGS.replaceAll("\n", "\\n")}\``,
      `\`stations\` holds \`${STATIONS.replaceAll("\n", "\\n")}\``,
      `content_hash of readings:  ${readings}`,
      `blob file of readings:     ${blobFile}`,
      `content_hash of stations:  ${stations}`,
      `input_hash of the transform:  ${inputHashOf([{ name: "source", contentHash: readings }], false) ?? ""}`,
      `hashes these two lines, ${Buffer.byteLength(lines)} bytes with both line feeds`,
      `\`\`\`text\n${lines}\`\`\``,
      `input_hash of the merge:               ${
        inputHashOf(
          [
            { name: "readings", contentHash: readings },
            { name: "stations", contentHash: stations },
          ],
          true,
        ) ?? ""
      }`,
      `input_hash with only the readings row:  ${inputHashOf([{ name: "readings", contentHash: readings }], true) ?? ""}`,
      `hashes the ${Buffer.byteLength(envText)} bytes \`${envText.replaceAll("\n", "\\n")}\``,
      `env_hash:  ${envHashOf({ baseImage: "replay-base:bookworm", lockfileKind: "none", requirementsLock: "" })}`,
      `\`\`\`text\n${canonicalJson(args.value.args)}\n\`\`\``,
      `\`\`\`text\n${citation}\`\`\``,
      `content_hash of the citation:  ${contentHashOf(citation)}`,
    ];
    expect(expected.filter((line) => !text.includes(line))).toEqual([]);
    // The lines form and the single-input form really differ for one row.
    expect(inputHashOf([{ name: "readings", contentHash: readings }], true)).not.toBe(readings);
  });

  it("states the defaults, the environment and the limits the code applies", async () => {
    const text = await doc();
    const env = stepEnvironment(Math.trunc(Date.parse("2024-01-02T03:04:05.999Z") / 1000));
    expect(env.SOURCE_DATE_EPOCH).toBe("1704164645");
    const fixed = Object.entries(env).filter(([k]) => k !== "SOURCE_DATE_EPOCH");
    expect(fixed).toHaveLength(7);
    expect(fixed.filter(([k, v]) => !text.includes(`\`${k}=${v}\``))).toEqual([]);
    expect(text).toContain(
      `| \`timeout_s\` | wall-clock limit in seconds (at least 0.001, at most 7 days) | ${DEFAULT_TIMEOUT_S} |`,
    );
    expect(text).toContain(
      `| \`memory_mb\` | memory limit in MiB, no swap (16 MiB to 1 TiB) | ${DEFAULT_MEMORY_MB} |`,
    );
    const defaults = parseContainerParameters({ code_hash: contentHashOf("x") });
    if (!defaults.ok) throw new Error(defaults.reason);
    expect(text).toContain(
      `| \`code_name\` | the script's file name under \`/code/\` (a plain file name) | \`${defaults.value.codeName}\` |`,
    );
    expect(defaults.value.command).toEqual(["python3", "/code/main.py"]);
    expect(text).toContain('`["python3", "/code/<code_name>"]`');
    expect(text).toContain(`at most ${PIDS_LIMIT} processes`);
    expect(STEP_USER).toBe("65534:65534");
    expect(text).toContain("user and group id 65534");
    for (const table of CONTRACT_TABLES) expect(text).toContain(`\`${table}\``);
  });

  it("is where the docs, the README and the messages point, not a file outside the project", async () => {
    let found: string[] = [];
    try {
      found = execFileSync(
        "git",
        [
          "-C",
          repoRoot,
          "grep",
          "-n",
          "-I",
          "-e",
          "shared/contract",
          "-e",
          "contract/README",
          "--",
          "src",
          "docs",
          "README.md",
          "examples",
          "scripts",
        ],
        { encoding: "utf8" },
      ).split("\n");
    } catch (error) {
      // git grep exits 1 when nothing matches.
      if ((error as { status?: number }).status !== 1) throw error;
    }
    // Only the verbatim copy of production's schema may keep its own comments.
    expect(found.filter((line) => line !== "" && !line.startsWith("src/db/contract-schema.ts:"))).toEqual([]);
    const readme = await readFile(path.join(repoRoot, "README.md"), "utf8");
    expect(readme).toContain("docs/registry-contract.md");
  });
});
