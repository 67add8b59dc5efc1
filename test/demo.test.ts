/** The README's first command must keep working: run the demo as a user would. */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";

it("npm run demo completes on the embedded server and verifies every file", { timeout: 180_000 }, () => {
  const r = spawnSync("node", ["--import", "tsx", "demo/demo.ts"], { encoding: "utf8", timeout: 170_000 });
  expect(r.stderr).not.toContain("FAILED");
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/checks passed, including sha256 of every file: demo OK/);
});
