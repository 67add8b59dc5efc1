/**
 * The fuzz loop shared by `npm run fuzz` (run.ts) and the smoke test: feeds one target seeds,
 * mutations and generated inputs, and sorts every outcome into "a value", "one of our typed
 * errors" or a finding. There is no coverage instrumentation; as cheap guidance an input whose
 * outcome (error code plus message shape) was never seen before joins the mutation pool, so
 * inputs that reached a new check get mutated further.
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { SshError } from "../src/errors.js";
import { Rng, mutate } from "./mutate.js";

export interface FuzzTarget {
  name: string;
  /** Real inputs to start from (captured traffic, fixture files, encoder output). */
  seeds(): Uint8Array[] | Promise<Uint8Array[]>;
  /** Decodes one input: returns (or resolves to) a value, or throws one of our typed errors. */
  run(input: Uint8Array): unknown;
  /** Structure-aware generation, where cheap. */
  generate?(rng: Rng): Uint8Array;
  /** Tokens the mutator may insert. */
  dict?: readonly Uint8Array[];
  /** Also apply line-level edits. */
  text?: boolean;
  maxLength?: number;
  /** Iterations in a full run: fast decoders get many, key exchanges and file systems few. */
  iterations: number;
  /** A larger per-input bound for targets whose fixed cost per input is high (key exchange). */
  timeLimitMs?: number;
  /** Called once when the run of this target ends (temporary directories, servers). */
  close?(): Promise<void>;
}

export type FindingKind = "crash" | "masked" | "hang" | "slow" | "unhandled" | "heap";

export interface Finding {
  kind: FindingKind;
  target: string;
  /** Error name and message, or what was too slow / too big. */
  message: string;
  stack: string;
  input: Uint8Array;
  count: number;
}

export interface TargetReport {
  name: string;
  seeds: number;
  iterations: number;
  values: number;
  typedErrors: number;
  findings: Finding[];
  seconds: number;
  slowest: { ms: number; input: Uint8Array };
  /** heapUsed + arrayBuffers, MiB: after a GC at the start and end, and the highest sample. */
  heap: { startMiB: number; peakMiB: number; endMiB: number };
  /** Distinct outcome shapes seen (a rough measure of how many checks the inputs reached). */
  outcomes: number;
}

export interface RunOptions {
  iterations: number;
  /** Stop after this long even if iterations remain. */
  seconds?: number;
  seed: number;
  /** Inputs slower than this (confirmed by re-running) are findings. */
  timeLimitMs: number;
  /** A promise still pending after this long is a hang. */
  hangMs: number;
  /** Heap growth (MiB, after GC) above which the target is reported. */
  heapGrowthMiB?: number;
  onInput?(input: Uint8Array): void;
  onProgress?(done: number): void;
}

/** A JavaScript-level bug: what a decoder must never throw, even wrapped as a cause. */
const BUG_TYPES = [TypeError, RangeError, ReferenceError, SyntaxError];

/** First stack frame, so wrapped errors from our own code can be told from a dependency's. */
function firstFrame(e: unknown): string {
  const stack = e instanceof Error ? e.stack ?? "" : "";
  return stack.split("\n").find((l) => l.trimStart().startsWith("at ")) ?? "";
}

const ours = (frame: string) => /[/\\](src|fuzz)[/\\]/.test(frame) && !frame.includes("node_modules");

/**
 * "typed" for SshError (and subclasses) whose cause chain holds no JavaScript bug raised in our
 * own code; "masked" when a wrapper turned such a bug into an SshError; "crash" otherwise.
 * Plain Errors and RangeErrors from dependencies (noble rejecting a point) may be wrapped: that
 * is what checkPeer and the key parsers do on purpose.
 */
export function classify(e: unknown): "typed" | "masked" | "crash" {
  if (!(e instanceof SshError)) return "crash";
  let c: unknown = e.cause;
  for (let depth = 0; c !== undefined && depth < 8; depth++) {
    if (!(c instanceof SshError) && BUG_TYPES.some((T) => c instanceof T) && ours(firstFrame(c))) return "masked";
    c = c instanceof Error ? c.cause : undefined;
  }
  return "typed";
}

/**
 * Runs each step: a JavaScript bug in any is rethrown; when every step threw a typed error the
 * first is rethrown; otherwise the results, with the typed errors in place of missing values
 * (so the outcome shape records which decoders accepted the input).
 */
export function each(...steps: (() => unknown)[]): unknown[] {
  const results: unknown[] = [];
  let typed: unknown;
  let values = 0;
  for (const step of steps) {
    try {
      results.push(step());
      values++;
    } catch (e) {
      if (classify(e) !== "typed") throw e;
      typed ??= e;
      results.push(e);
    }
  }
  if (values === 0) throw typed;
  return results;
}

/** Outcome shape: numbers, quoted text and hex collapsed, so one check counts once. */
function shape(e: unknown, depth = 0): string {
  if (Array.isArray(e) && depth < 2) return `[${e.slice(0, 8).map((x) => shape(x, depth + 1)).join("|")}]`;
  // A target may describe its value in a string (reply types, say) to guide the mutation pool.
  if (typeof e === "string") return `s:${e.slice(0, 80)}`;
  if (!(e instanceof Error)) return "v";
  const code = e instanceof SshError ? e.code : e.name;
  return `${code}:${e.message.replace(/"[^"]*"|'[^']*'/g, "Q").replace(/\b[0-9a-f]{8,}\b/gi, "H").replace(/\d+/g, "N").slice(0, 120)}`;
}

/** Where the bug is: name plus first frame in our code, for de-duplicating findings. */
function bugKey(kind: string, e: unknown): string {
  const frames = (e instanceof Error ? e.stack ?? "" : "").split("\n").filter((l) => l.trimStart().startsWith("at "));
  const where = frames.find(ours) ?? frames[0] ?? "";
  return `${kind}|${e instanceof Error ? e.name : typeof e}|${where.trim()}|${where ? "" : String(e).slice(0, 80)}`;
}

let gcFn: (() => void) | undefined;
/** A full GC, so heap figures compare like with like (the flag can be set at run time). */
export function collectGarbage(): void {
  // Bun has no V8 flags to flip; it has its own forced collection.
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) return bun.gc(true);
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
}

const heapMiB = () => {
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1048576;
};

/** Resolves after pending I/O callbacks, timers of 0 ms and microtasks have run. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 5));

class Timeout {
  constructor(readonly ms: number) {}
}

export async function fuzzTarget(t: FuzzTarget, o: RunOptions): Promise<TargetReport> {
  const rng = new Rng(o.seed ^ hashName(t.name));
  const limitMs = Math.max(o.timeLimitMs, t.timeLimitMs ?? 0);
  const seeds = (await t.seeds()).filter((s) => s.length <= (t.maxLength ?? 1 << 20));
  const pool: Uint8Array[] = seeds.length > 0 ? [...seeds] : [new Uint8Array(0)];
  const mutateOptions = { pool, dict: t.dict ?? [], maxLength: t.maxLength ?? 64 * 1024, text: t.text ?? false };
  const seen = new Set<string>();
  const findings = new Map<string, Finding>();
  const report: TargetReport = {
    name: t.name, seeds: seeds.length, iterations: 0, values: 0, typedErrors: 0, findings: [], seconds: 0,
    slowest: { ms: 0, input: new Uint8Array(0) }, heap: { startMiB: 0, peakMiB: 0, endMiB: 0 }, outcomes: 0,
  };
  let current: Uint8Array = new Uint8Array(0);
  const note = (kind: FindingKind, e: unknown, input: Uint8Array, message?: string) => {
    const key = message ? `${kind}|${message}` : bugKey(kind, e);
    const f = findings.get(key);
    if (f) return void f.count++;
    const stack = e instanceof Error ? e.stack ?? String(e) : String(e);
    const text = message ?? (e instanceof Error ? `${e.name}: ${e.message}` : `non-Error thrown: ${String(e)}`);
    findings.set(key, { kind, target: t.name, message: text, stack, input: input.slice(), count: 1 });
  };
  // Rejections nobody handles crash a Node process by default: a library must not leave any.
  const onUnhandled = (reason: unknown) => note("unhandled", reason, current);
  const onUncaught = (err: unknown) => note("crash", err, current);
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUncaught);

  const runOnce = async (input: Uint8Array): Promise<{ ms: number; value?: unknown; error?: unknown; hung?: boolean }> => {
    const t0 = performance.now();
    try {
      let value = t.run(input);
      if (value instanceof Promise) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout(o.hangMs)), o.hangMs)));
        try {
          value = await Promise.race([value, hang]);
        } finally {
          clearTimeout(timer);
        }
      }
      return { ms: performance.now() - t0, value };
    } catch (error) {
      if (error instanceof Timeout) return { ms: performance.now() - t0, hung: true };
      return { ms: performance.now() - t0, error };
    }
  };

  const next = (i: number): Uint8Array => {
    if (i < seeds.length) return seeds[i]!;
    const roll = rng.int(100);
    if (roll < 4) return rng.bytes(rng.size(mutateOptions.maxLength));
    if (roll < 20 && t.generate) {
      const g = t.generate(rng);
      return rng.chance(0.5) ? g : mutate(rng, g, mutateOptions);
    }
    // Half from the real seeds, so the pool's many novel-but-broken inputs do not crowd them out.
    return mutate(rng, rng.pick(seeds.length > 0 && rng.chance(0.5) ? seeds : pool), mutateOptions);
  };

  collectGarbage();
  report.heap.startMiB = report.heap.peakMiB = heapMiB();
  const start = performance.now();
  for (let i = 0; i < o.iterations; i++) {
    if (o.seconds !== undefined && performance.now() - start > o.seconds * 1000) break;
    const input = next(i);
    current = input;
    o.onInput?.(input);
    const r = await runOnce(input);
    report.iterations++;
    if (r.hung) note("hang", undefined, input, `no result after ${o.hangMs} ms`);
    else if (r.error === undefined) report.values++;
    else {
      const kind = classify(r.error);
      if (kind === "typed") report.typedErrors++;
      else note(kind, r.error, input);
    }
    if (r.ms > report.slowest.ms) report.slowest = { ms: r.ms, input: input.slice() };
    if (r.ms > limitMs && !r.hung) {
      // One slow run may be a GC pause or a busy machine: count it only if it stays slow.
      const again = Math.min((await runOnce(input)).ms, (await runOnce(input)).ms);
      if (again > limitMs) note("slow", undefined, input, `${again.toFixed(0)} ms (limit ${limitMs} ms), ${input.length}-byte input`);
    }
    const s = r.error === undefined ? shape(r.value) : shape(r.error);
    if (!seen.has(s)) {
      seen.add(s);
      if (i >= seeds.length) pool.length < 4096 ? pool.push(input) : (pool[rng.int(pool.length)] = input);
    }
    if ((i & 255) === 255) {
      report.heap.peakMiB = Math.max(report.heap.peakMiB, heapMiB());
      o.onProgress?.(i + 1);
      // Let timers and I/O of asynchronous targets run, so their leftovers are attributed here.
      await new Promise((r) => setImmediate(r));
    }
  }
  await settle();
  report.seconds = (performance.now() - start) / 1000;
  try {
    await t.close?.();
  } catch (e) {
    note("crash", e, current);
  }
  await settle();
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUncaught);
  report.outcomes = seen.size;
  pool.length = 0;
  seen.clear();
  collectGarbage();
  report.heap.endMiB = heapMiB();
  const growth = report.heap.endMiB - report.heap.startMiB;
  if (growth > (o.heapGrowthMiB ?? 64)) note("heap", undefined, new Uint8Array(0), `heap grew by ${growth.toFixed(0)} MiB over the run`);
  report.findings = [...findings.values()];
  return report;
}

function hashName(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
