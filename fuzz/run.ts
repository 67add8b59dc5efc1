/**
 * `npm run fuzz` — feeds every decoder generated and mutated input (see engine.ts, mutate.ts)
 * and reports per target: inputs run, how they ended, findings, the slowest input and heap use.
 *
 *   --target=a,b        only targets whose name contains one of these
 *   --iterations=N      inputs per target (default: each target's own count, over 10^6 in all)
 *   --scale=F           multiply the default counts (0.01 for a quick look)
 *   --seconds=N         stop each target after N seconds
 *   --seed=N            PRNG seed (default: time); the same seed replays the same inputs
 *   --time-limit-ms=N   per-input bound (default 250); slower inputs, confirmed twice, are findings
 *   --repro=HEX|FILE    run one input against --target and print what happens
 *   --list              print the targets and their default counts
 *
 * Exit status 1 when anything was found (findings listed in known.ts are reported, not counted). Each finding's input is written as hex to
 * $TMPDIR/pure-sftp-fuzz/ (or --out=DIR). A synchronous endless loop cannot be interrupted from
 * JavaScript, so a watchdog thread prints the input that hangs and kills the process.
 */
import { mkdirSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { classify, fuzzTarget, type Finding, type FuzzTarget, type TargetReport } from "./engine.js";
import { knownIssue } from "./known.js";
import { hex, unhex } from "./mutate.js";
import { ALL_TARGETS } from "./targets/index.js";

const args = new Map(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) throw new Error(`unknown argument ${a}`);
  return [m[1]!, m[2] ?? "true"] as const;
}));
const num = (name: string, dflt?: number): number | undefined => {
  const v = args.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number`);
  return n;
};

const filter = args.get("target")?.split(",").filter(Boolean);
const selected = ALL_TARGETS.filter((t) => !filter || filter.some((f) => t.name === f || t.name.includes(f)));
if (selected.length === 0) throw new Error(`no target matches ${filter}; --list shows them`);
const timeLimitMs = num("time-limit-ms", 250)!;
const hangMs = Math.max(5000, timeLimitMs * 20);
const seed = num("seed", Date.now() % 2 ** 31)!;
const outDir = args.get("out") ?? join(tmpdir(), "pure-sftp-fuzz");

if (args.has("list")) {
  for (const t of ALL_TARGETS) console.log(`${t.name.padEnd(22)} ${t.iterations}`);
  console.log(`${"total".padEnd(22)} ${ALL_TARGETS.reduce((n, t) => n + t.iterations, 0)}`);
  process.exit(0);
}

if (args.has("repro")) await repro(selected, args.get("repro")!);

/** Watchdog: shares the current input with a thread that kills us if one input never returns. */
const shared = new SharedArrayBuffer(16 + (1 << 20));
const state = new Int32Array(shared, 0, 4);
const current = new Uint8Array(shared, 16);
const watchdog = new Worker(`
  const { workerData } = require("node:worker_threads");
  const state = new Int32Array(workerData.shared, 0, 4);
  const bytes = new Uint8Array(workerData.shared, 16);
  let last = -1, since = Date.now();
  setInterval(() => {
    const beat = Atomics.load(state, 0);
    if (beat !== last) { last = beat; since = Date.now(); return; }
    if (Date.now() - since < workerData.limitMs) return;
    const len = Atomics.load(state, 2);
    const hex = Buffer.from(bytes.subarray(0, len)).toString("hex");
    require("node:fs").writeSync(2, "\\nHANG: target " + workerData.names[Atomics.load(state, 3)] + " has not returned for " +
      (Date.now() - since) + " ms (a synchronous loop). Input (" + len + " bytes):\\n" + hex + "\\n");
    process.kill(process.pid, "SIGKILL");
  }, 500);
`, { eval: true, workerData: { shared, limitMs: hangMs * 3, names: selected.map((t) => t.name) } });
watchdog.unref();

const reports: TargetReport[] = [];
const t0 = performance.now();
console.log(`seed ${seed}, per-input limit ${timeLimitMs} ms, ${selected.length} targets`);
for (const [index, t] of selected.entries()) {
  const iterations = num("iterations") ?? Math.max(1, Math.round(t.iterations * (num("scale", 1) ?? 1)));
  Atomics.store(state, 3, index);
  const report = await fuzzTarget(t, {
    iterations,
    seconds: num("seconds"),
    seed,
    timeLimitMs,
    hangMs,
    onInput: (input) => {
      const n = Math.min(input.length, current.length);
      current.set(input.subarray(0, n));
      Atomics.store(state, 2, n);
      Atomics.add(state, 0, 1);
    },
    onProgress: () => Atomics.add(state, 0, 1),
  });
  reports.push(report);
  console.log(line(report));
}
await watchdog.terminate();

const total = reports.reduce((n, r) => n + r.iterations, 0);
const findings = reports.flatMap((r) => r.findings);
const fresh = findings.filter((f) => !knownIssue(f));
console.log(`\n${total} inputs in ${((performance.now() - t0) / 1000).toFixed(0)} s, ${fresh.length} finding(s)` +
  (findings.length > fresh.length ? `, ${findings.length - fresh.length} known (fuzz/known.ts)` : ""));
for (const r of reports) {
  if (r.slowest.ms > timeLimitMs / 4) console.log(`slowest ${r.name}: ${r.slowest.ms.toFixed(0)} ms, ${r.slowest.input.length} bytes: ${hex(r.slowest.input.subarray(0, 96))}${r.slowest.input.length > 96 ? "…" : ""}`);
}
if (findings.length > 0) {
  mkdirSync(outDir, { recursive: true });
  findings.forEach((f, i) => report(f, i));
}
process.exit(fresh.length > 0 ? 1 : 0);

function line(r: TargetReport): string {
  const rate = r.seconds > 0 ? Math.round(r.iterations / r.seconds) : 0;
  return [
    r.name.padEnd(22), `${r.iterations}`.padStart(8), `${rate}/s`.padStart(9), `values ${r.values}`.padEnd(15),
    `typed errors ${r.typedErrors}`.padEnd(21), `outcomes ${r.outcomes}`.padEnd(14), `findings ${r.findings.length}`.padEnd(11),
    `slowest ${r.slowest.ms.toFixed(1)} ms`.padEnd(18), `heap ${r.heap.startMiB.toFixed(0)}/${r.heap.peakMiB.toFixed(0)}/${r.heap.endMiB.toFixed(0)} MiB`,
  ].join(" ");
}

function report(f: Finding, i: number): void {
  const file = join(outDir, `${f.target}-${f.kind}-${i}.hex`);
  writeFileSync(file, hex(f.input) + "\n");
  const known = knownIssue(f);
  console.log(`\n[${f.kind}${known ? ", known" : ""}] ${f.target} (${f.count}×): ${f.message}`);
  if (known) console.log(`  known: ${known.note}`);
  console.log(`  input (${f.input.length} bytes) → ${file}: ${hex(f.input.subarray(0, 256))}${f.input.length > 256 ? "…" : ""}`);
  console.log(f.stack.split("\n").slice(0, 12).map((l) => `  ${l}`).join("\n"));
}

async function repro(targets: FuzzTarget[], what: string): Promise<never> {
  if (targets.length !== 1) throw new Error("--repro needs exactly one --target");
  const t = targets[0]!;
  const input = existsSync(what) ? unhex(readFileSync(what, "utf8")) : unhex(what);
  await t.seeds();
  const start = performance.now();
  try {
    const v = await t.run(input);
    console.log(`value after ${(performance.now() - start).toFixed(1)} ms:`, v);
  } catch (e) {
    console.log(`${classify(e)} after ${(performance.now() - start).toFixed(1)} ms:`, e);
  }
  await t.close?.();
  process.exit(0);
}
