import { readFileSync } from "node:fs";

/**
 * The package's version, read once from package.json: one level above src/ and dist/, two
 * above the bundled CLI in dist/bin/.
 */
function readVersion(): string {
  for (const relative of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "replay-runner" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not this one
    }
  }
  return "unknown";
}

export const VERSION = readVersion();
