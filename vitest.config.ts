import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "conformance/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for something that should happen; vitest's 1 s default is tight when CI
    // runs on two loaded cores, and only a failing test ever waits the whole time.
    expect: { poll: { timeout: 10_000 } },
    // Conformance suites each start their own sshd; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
