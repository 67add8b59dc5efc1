/**
 * The fault suite's summary for one target on one runtime: the counts issue #17 asks a closing
 * note for. Printed after each runtime's cases, and appended as one JSON line to
 * FAULT_SUMMARY_FILE when that is set (the large runs' results are made from those lines).
 * FAULT_CASES_FILE gets every case as it is judged; run this file on it to summarize again:
 *
 *   node --import tsx test/faults/summary.ts cases.jsonl
 */
import { appendFileSync, readFileSync } from "node:fs";
import type { CaseReport, Runtime } from "./cases.js";

export interface FaultSummary {
  target: string;
  runtime: Runtime;
  seed: number;
  runs: number;
  /** Cases by fault kind, and how many of them saw the fault fire (the offset was reached). */
  faults: Record<string, { cases: number; fired: number }>;
  /** Typed errors by code (the cause's code after it in brackets when it adds something). */
  typedErrors: Record<string, number>;
  untypedErrors: number;
  successes: number;
  maxTimeToErrorMs: number;
  slowestChildMs: number;
  partials: number;
  resumeFailures: number;
  unhandled: number;
  crashes: number;
  hung: number;
  /** Errors with no fault fired (allowed: typed and bounded; a loaded machine's slow keepalive). */
  errorsWithoutFault: number;
}

const tally = (rec: Record<string, number>, key: string) => void (rec[key] = (rec[key] ?? 0) + 1);

export function summarize(target: string, runtime: Runtime, seed: number, reports: CaseReport[]): FaultSummary {
  const faults: FaultSummary["faults"] = {};
  const typedErrors: Record<string, number> = {};
  let untypedErrors = 0;
  for (const r of reports) {
    const f = (faults[r.case.kind] ??= { cases: 0, fired: 0 });
    f.cases++;
    if (r.faultFired) f.fired++;
    const e = r.result?.ok === false ? r.result.error! : undefined;
    if (!e) continue;
    if (!e.typed) untypedErrors++;
    else tally(typedErrors, e.causeCode && e.causeCode !== e.code ? `${e.code}(${e.causeCode})` : e.code ?? "?");
  }
  const errors = reports.filter((r) => r.result?.ok === false);
  const count = (f: (r: CaseReport) => boolean) => reports.filter(f).length;
  return {
    target, runtime, seed, runs: reports.length, faults, typedErrors, untypedErrors,
    successes: count((r) => r.result?.ok === true),
    maxTimeToErrorMs: Math.max(0, ...errors.map((r) => r.result!.ms)),
    slowestChildMs: Math.max(0, ...reports.map((r) => r.ms)),
    partials: count((r) => r.partial),
    resumeFailures: count((r) => r.resumeFailed),
    unhandled: count((r) => r.unhandled),
    crashes: count((r) => r.crashed),
    hung: count((r) => r.hung),
    errorsWithoutFault: errors.filter((r) => !r.faultFired).length,
  };
}

export function reportSummary(s: FaultSummary): void {
  const kinds = Object.entries(s.faults).map(([k, v]) => `${k} ${v.fired}/${v.cases}`).join(", ");
  const codes = Object.entries(s.typedErrors).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ");
  console.log(`${s.target} on ${s.runtime} (seed ${s.seed}): ${s.runs} runs; faults fired by kind: ${kinds}; ` +
    `${s.successes} succeeded; typed errors: ${codes || "none"}; ${s.untypedErrors} untyped; ` +
    `max time to error ${s.maxTimeToErrorMs} ms (slowest child ${s.slowestChildMs} ms); ` +
    `${s.partials} partials, ${s.resumeFailures} resume failures, ${s.unhandled} unhandled, ${s.crashes} crashes, ${s.hung} hung` +
    (s.errorsWithoutFault ? `; ${s.errorsWithoutFault} errors without a fault` : ""));
  const file = process.env.FAULT_SUMMARY_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(s)}\n`);
}

/** Appends one judged case to FAULT_CASES_FILE, when set. */
export function recordCase(target: string, runtime: Runtime, report: CaseReport): void {
  const file = process.env.FAULT_CASES_FILE;
  if (file) appendFileSync(file, `${JSON.stringify({ target, runtime, report })}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const groups = new Map<string, { target: string; runtime: Runtime; reports: CaseReport[] }>();
  for (const line of readFileSync(process.argv[2]!, "utf8").split("\n").filter(Boolean)) {
    const { target, runtime, report } = JSON.parse(line) as { target: string; runtime: Runtime; report: CaseReport };
    const key = `${target}/${runtime}`;
    if (!groups.has(key)) groups.set(key, { target, runtime, reports: [] });
    groups.get(key)!.reports.push(report);
  }
  for (const g of groups.values()) reportSummary(summarize(g.target, g.runtime, g.reports[0]!.case.baseSeed, g.reports));
}
