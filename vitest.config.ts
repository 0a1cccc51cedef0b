import { defineConfig } from "vitest/config";

/**
 * Bounds, not speeds: a test waits for what it checks, and on a loaded machine (two cores, other suites
 * beside it) spawning the CLI or booting a function takes seconds where it takes milliseconds at rest.
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
