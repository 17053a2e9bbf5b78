/**
 * The published JSON Schema of manifest.json (schemas/manifest.schema.json, draft 2020-12),
 * served by `GET /schemas/manifest.json` and used to check a manifest read from a folder
 * (export-crate) with ajv, a standard validator.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Ajv2020, ValidateFunction } from "ajv/dist/2020.js";

/**
 * Two levels below the package root, from src/evidence/, dist/evidence/ and the bundled
 * dist/bin/ alike (scripts/bundle-cli.mjs keeps chunks at that depth).
 */
export const MANIFEST_SCHEMA_FILE = fileURLToPath(
  new URL("../../schemas/manifest.schema.json", import.meta.url),
);

let text: string | undefined;
let validator: ValidateFunction | undefined;

export function manifestSchemaText(): string {
  text ??= readFileSync(MANIFEST_SCHEMA_FILE, "utf8");
  return text;
}

/**
 * The problems ajv finds in `value` as a manifest (`/steps/0/status: must be equal to one of ...`);
 * none when valid. ajv is loaded here, not at start-up: only export-crate needs it.
 */
export async function manifestProblems(value: unknown): Promise<string[]> {
  if (validator === undefined) {
    const { Ajv2020: Ajv } = await import("ajv/dist/2020.js");
    // ajv-formats is CommonJS with a default export; under NodeNext its callable sits on `.default`.
    const formats = (await import("ajv-formats")) as unknown as {
      default: { default: (ajv: Ajv2020) => Ajv2020 };
    };
    const ajv = new Ajv({ allErrors: true, strict: true });
    formats.default.default(ajv);
    validator = ajv.compile(JSON.parse(manifestSchemaText()) as object);
  }
  if (validator(value)) return [];
  return (validator.errors ?? []).map((e) => {
    const extra =
      e.keyword === "additionalProperties"
        ? ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})`
        : "";
    return `${e.instancePath || "/"}: ${e.message ?? e.keyword}${extra}`;
  });
}
