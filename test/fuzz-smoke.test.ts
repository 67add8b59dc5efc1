/**
 * Every fuzz target (fuzz/targets/) for a few hundred inputs: seeds first, then mutations and
 * generated inputs from a fixed PRNG seed, so a failure here replays with
 * `npm run fuzz -- --target=<name> --seed=1 --iterations=<n>`. Any finding fails the test,
 * except the ones listed in fuzz/known.ts (printed as warnings). The per-input time bound is
 * generous: this runs beside other tests on a shared machine; `npm run fuzz` holds 250 ms.
 */
import { afterAll, describe, expect, it } from "vitest";
import { fuzzTarget, type Finding } from "../fuzz/engine.js";
import { knownIssue } from "../fuzz/known.js";
import { ALL_TARGETS } from "../fuzz/targets/index.js";

/** Costly targets (key exchange, file system, key derivation) get fewer inputs. */
const iterations = (t: (typeof ALL_TARGETS)[number]) => Math.max(100, Math.min(800, Math.round(t.iterations / 100)));
const known: Finding[] = [];

describe("fuzz smoke run", () => {
  for (const target of ALL_TARGETS) {
    it(`${target.name}: values or typed errors only`, async () => {
      const report = await fuzzTarget(target, { iterations: iterations(target), seed: 1, timeLimitMs: 2000, hangMs: 10_000, heapGrowthMiB: 256 });
      known.push(...report.findings.filter((f) => knownIssue(f)));
      const fresh = report.findings.filter((f) => !knownIssue(f));
      const described = fresh.map((f) => `[${f.kind}] ${f.message}\ninput ${Buffer.from(f.input).toString("hex").slice(0, 400)}\n${f.stack}`);
      expect(described).toEqual([]);
      expect(report.iterations).toBe(iterations(target));
    });
  }
  afterAll(() => {
    for (const f of known) console.warn(`known fuzz finding (fuzz/known.ts), ${f.target}: ${f.message}`);
  });
});
