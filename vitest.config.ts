import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "conformance/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Conformance suites each start their own sshd; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
