/**
 * Every manifest the suite produces is checked against the published schema
 * (schemas/manifest.schema.json) with ajv, a validator we did not write, so the schema and the
 * code cannot drift apart: readManifest() where a test reads one, and checkManifestsUnder() on
 * every test registry's folder when it is disposed (replays written there by the CLI or by serve).
 */
import { readFileSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { Manifest } from "../../src/replay/index.js";

export const SCHEMA_FILE = path.resolve(import.meta.dirname, "../../schemas/manifest.schema.json");

// ajv-formats is CommonJS; under NodeNext its plugin sits on `.default`.
const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv2020) => Ajv2020 }).default;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as object);

/** ajv's complaints about `value` as a manifest: `<path>: <message>`; none when it is valid. */
export function manifestSchemaErrors(value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const param = e.params as { additionalProperty?: string; missingProperty?: string };
    const member = param.additionalProperty ?? param.missingProperty;
    return `${e.instancePath || "/"}: ${e.message ?? e.keyword}${member === undefined ? "" : ` (${member})`}`;
  });
}

export function assertValidManifest(value: unknown, where: string): asserts value is Manifest {
  const errors = manifestSchemaErrors(value);
  if (errors.length > 0) {
    throw new Error(
      `${where} does not validate against schemas/manifest.schema.json:\n  ${errors.join("\n  ")}\n` +
        "Update the schema (and manifest_version, for a breaking change) with the manifest's shape.",
    );
  }
}

/** manifest.json in `dir`, parsed and validated. */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, "manifest.json");
  const value: unknown = JSON.parse(await readFile(file, "utf8"));
  assertValidManifest(value, file);
  return value;
}

/** Validates every manifest.json under `root`; returns how many there were. */
export async function checkManifestsUnder(root: string): Promise<number> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  });
  const files = entries
    .filter((e) => e.isFile() && e.name === "manifest.json")
    .map((e) => path.join(e.parentPath, e.name));
  const problems: string[] = [];
  for (const file of files) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      problems.push(`${file}: not JSON (${(error as Error).message})`);
      continue;
    }
    const errors = manifestSchemaErrors(value);
    if (errors.length > 0) problems.push(`${file}:\n    ${errors.join("\n    ")}`);
  }
  if (problems.length > 0) {
    throw new Error(
      `${problems.length} manifest(s) do not validate against schemas/manifest.schema.json:\n  ${problems.join("\n  ")}`,
    );
  }
  return files.length;
}
