import { defineConfig } from "vitest/config";

/** Stops and restarts dockerd and PostgreSQL: it must never overlap another file. */
const RESTARTS = "test/faults/service-restarts.test.ts";

export const config = defineConfig({
  // Node 20 has no `await using`: it is lowered, also when a fixture runs under
  // `vite-node --config vitest.config.ts` (test/server/fixtures/).
  esbuild: { target: "node20" },
  test: {
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Docker steps and PostgreSQL databases are real; two cores run two files at once.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts", "src/**/*.test.ts"],
          exclude: [RESTARTS, "**/node_modules/**"],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // A later group: vitest starts it only when the whole first group has finished.
        extends: true,
        test: {
          name: "service-restarts",
          include: [RESTARTS],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
// vitest loads the config through its default export; this one file is the exception.
// eslint-disable-next-line no-restricted-syntax
export default config;
