/**
 * Declares the fault suite for one target: its cases on Node, Bun and Deno (each case a child
 * process on that runtime), with a summary per runtime (summary.ts). FAULT_SEED picks the cases,
 * FAULT_RUNS multiplies how many, FAULT_ONLY runs one case by index (see cases.ts). For large
 * runs: FAULT_RUNTIME=node|bun|deno gives every case to that runtime, FAULT_OPS=a,b keeps only
 * those operations, FAULT_SUMMARY_FILE collects the summaries as JSON lines, FAULT_CASES_FILE
 * every case as it is judged (summary.ts makes the summaries from it again, for a cut-short run).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS, type Operation } from "./operations.js";
import { CHILD_BOUND_MS, runFaultCase, runtimeCommand, type CaseReport, type FaultTarget, type Runtime } from "./cases.js";
import { faultCases } from "./generate.js";
import { recordCase, reportSummary, summarize } from "./summary.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const SEED = Number(process.env.FAULT_SEED ?? 20261206);
const RUNS = Number(process.env.FAULT_RUNS ?? 1);
const ONLY = process.env.FAULT_ONLY === undefined ? undefined : Number(process.env.FAULT_ONLY);
const inCI = process.env.CI === "true";
const FORCED = process.env.FAULT_RUNTIME as Runtime | undefined;
const ONLY_OPS = process.env.FAULT_OPS?.split(",").map((s) => s.trim()).filter(Boolean);

/**
 * Which runtime runs case `index`: every operation once per run, half of them on Node and a
 * quarter each on Bun and Deno, which keeps a run within its time budget (each case is a
 * process start, a transfer and a retry). `shift` differs per target, so the two targets give
 * each operation to different runtimes. FAULT_RUNS=n runs n times as many (new offsets, kinds
 * and runtimes each round).
 */
const RUNTIME_OF = ["node", "bun", "node", "deno"] as const;

function casesFor(runtime: Runtime, ops: readonly Operation[], shift: number) {
  const all = faultCases(SEED, SEED + ["node", "bun", "deno"].indexOf(runtime), ops.length * RUNS, ops);
  const mine = FORCED ? all.filter(() => runtime === FORCED)
    : all.filter((c) => RUNTIME_OF[(c.index + shift + Math.floor(c.index / ops.length)) % RUNTIME_OF.length] === runtime);
  return ONLY === undefined ? mine : mine.filter((c) => c.index === ONLY);
}

function runtimeAvailable(runtime: Runtime): boolean {
  return runtime === "node" || existsSync(runtimeCommand(runtime, ROOT)[0]!);
}

export function describeFaults(
  name: string,
  describeFn: typeof describe,
  start: () => Promise<{ target: FaultTarget; stop: () => Promise<void> }>,
  options: { ops?: readonly Operation[]; shift: number },
): void {
  const ops = (options.ops ?? OPERATIONS).filter((op) => !ONLY_OPS || ONLY_OPS.includes(op));
  describeFn(`faults never crash or hang the client: ${name}`, () => {
    let target: FaultTarget;
    let stop = async () => {};
    beforeAll(async () => {
      ({ target, stop } = await start());
    });
    afterAll(() => stop());

    for (const runtime of ["node", "bun", "deno"] as const) {
      // FAULT_RUNTIME: the other runtimes have no cases, and an empty suite is an error to vitest.
      if (FORCED && runtime !== FORCED) continue;
      const available = runtimeAvailable(runtime);
      if (!available && !inCI) console.warn(`skipping fault cases on ${runtime}: ${runtimeCommand(runtime, ROOT)[0]} not installed`);
      // One case at a time: cases in parallel (and the other target's file beside them) overload
      // a small machine until healthy children miss their own timeouts.
      (available || inCI ? describe : describe.skip)(runtime, () => {
        const reports: CaseReport[] = [];
        afterAll(() => {
          if (reports.length > 0) reportSummary(summarize(name, runtime, SEED, reports));
        });
        for (const c of casesFor(runtime, ops, options.shift)) {
          it(`#${c.index} ${c.op}: ${c.kind} ${c.direction} at byte ${c.at}`, { timeout: CHILD_BOUND_MS + 60_000 }, async () => {
            expect(available, `${runtime} is not installed (npm ci installs it)`).toBe(true);
            let report: CaseReport | undefined;
            try {
              await runFaultCase(target, c, runtime, ROOT, (r) => reports.push((report = r)));
            } finally {
              if (report) recordCase(name, runtime, report);
            }
          });
        }
      });
    }
  });
}
