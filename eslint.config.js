import js from "@eslint/js";
import tseslint from "typescript-eslint";

// ESLint loads its flat config through the default export; the one exception to named exports.
// eslint-disable-next-line no-restricted-syntax
export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".replay/**", "test-results/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["eslint.config.js"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/no-unnecessary-condition": ["error", { allowConstantLoopConditions: true }],
      "no-restricted-syntax": [
        "error",
        { selector: "ExportDefaultDeclaration", message: "Use named exports." },
      ],
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "dockerode", message: "Only src/runner/docker-engine.ts talks to dockerode." },
            { name: "pg", message: "Only src/db/sql-client.ts talks to pg." },
            { name: "@electric-sql/pglite", message: "Only src/db/sql-client.ts talks to PGlite." },
            {
              name: "pg-connection-string",
              message: "Only src/db/pg-connection.ts reads connection strings.",
            },
          ],
          patterns: [
            { group: ["pgpass", "pgpass/*"], message: "Only src/db/pg-connection.ts reads password files." },
          ],
        },
      ],
    },
  },
  {
    files: [
      "src/runner/docker-engine.ts",
      "src/db/sql-client.ts",
      "src/db/pg-connection.ts",
      "src/server/job-queue-postgres.ts",
    ],
    rules: { "no-restricted-imports": "off" },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
  // The benchmark helpers and the build's bundling step are plain Node scripts (run as they
  // are, never shipped): no type information, Node's globals.
  {
    files: ["bench/**/*.mjs", "scripts/**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { Buffer: "readonly", console: "readonly", process: "readonly" },
    },
  },
  {
    files: ["test/**/*.ts", "src/**/*.test.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
);
