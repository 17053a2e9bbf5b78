import { defineConfig } from "vitest/config";

export const config = defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Docker steps and PostgreSQL databases are real; two cores run two files at once.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
// vitest loads the config through its default export; this one file is the exception.
// eslint-disable-next-line no-restricted-syntax
export default config;
