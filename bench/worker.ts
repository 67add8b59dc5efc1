/**
 * Jobs the orchestrator runs in a child process, so they get a clean heap, their own RSS and
 * their own profiler: `node [--expose-gc] --import tsx bench/worker.ts '<job json>'`. The result is printed as one line `RESULT <json>` on stdout.
 *
 * - rss:      download `remote` (1 GiB) to `local`, sampling process.memoryUsage().rss every 50 ms;
 *             growth = peak − the RSS after connecting (after a GC when --expose-gc is given).
 * - sessions: `count` concurrent connect()s, each writing `bytesEach` random bytes to its own
 *             remote file, reading it back and comparing; all must succeed.
 * - peer:     one timed transfer by an in-process client (ours or ssh2), as the throughput table
 *             measures it: each in a fresh process, so one client's heap (and the orchestrator's
 *             own work, such as sampling sshd's CPU) never weighs on another's time or CPU.
 * - transfer: one download or upload, optionally CPU-profiled: the same V8 sampling profiler as
 *             `node --cpu-prof`, started through node:inspector right before the transfer and
 *             stopped right after it, so module loading and the handshake stay out of the profile.
 */
import * as fs from "node:fs/promises";
import { randomFillSync } from "node:crypto";
import { Session } from "node:inspector/promises";
import { connect } from "../src/connect.js";
import { type BenchServer, type CipherCase, MiB, errorText, mbps, withTimeout } from "./common.js";
import { cipherOptions, closeQuietly, oursOptions, oursTransfer, type Backend, type TransferTiming } from "./peers/ours.js";
import { ssh2Transfer } from "./peers/ssh2.js";

export type WorkerJob =
  | { kind: "rss"; server: BenchServer; cc: CipherCase; backend: Backend; remote: string; local: string; bytes: number; timeoutMs: number }
  | { kind: "sessions"; server: BenchServer; count: number; bytesEach: number; remoteDir: string; timeoutMs: number }
  | {
      kind: "peer"; client: "ours-auto" | "ours-heap" | "ours-pure" | "ssh2" | "ssh2-nodelay"; server: BenchServer; cc: CipherCase;
      direction: "download" | "upload"; remote: string; local: string; timeoutMs: number;
    }
  | {
      kind: "transfer"; server: BenchServer; cc: CipherCase; backend: Backend; direction: "download" | "upload";
      remote: string; local: string; timeoutMs: number;
      /** Write a V8 CPU profile of the transfer alone (not startup or connect) to this path. */
      profilePath?: string;
    };

export interface RssResult {
  baselineMiB: number;
  peakMiB: number;
  growthMiB: number;
  /** What grew, from process.memoryUsage() after connecting to the sample where RSS peaked (MiB):
   * the V8 heap reserved and used, and memory outside it (external includes arrayBuffers). */
  atPeakGrowth: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  seconds: number;
  mbps: number;
  samples: number;
  negotiated: string;
}

export interface SessionsResult {
  count: number;
  succeeded: number;
  failures: string[];
  seconds: number;
  /** Bytes written plus bytes read back, over the wall time from the first connect to the last close. */
  aggregateMbps: number;
  /** Slowest connect() while all were connecting at once. */
  maxConnectMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
const rssMiB = () => process.memoryUsage().rss / MiB;

async function rssJob(job: Extract<WorkerJob, { kind: "rss" }>): Promise<RssResult> {
  const c = await withTimeout(connect(oursOptions(job.server, cipherOptions(job.cc, job.backend))), 60_000, "connect");
  try {
    gc?.();
    await new Promise((r) => setTimeout(r, 100));
    const baseline = rssMiB();
    const base = process.memoryUsage();
    let peak = baseline;
    let atPeak = base;
    let samples = 0;
    const sample = () => {
      const m = process.memoryUsage();
      if (m.rss / MiB > peak) {
        peak = m.rss / MiB;
        atPeak = m;
      }
    };
    const timer = setInterval(() => {
      sample();
      samples++;
    }, 50);
    const abort = new AbortController();
    const t0 = performance.now();
    try {
      await withTimeout(c.download(job.remote, job.local, { signal: abort.signal }), job.timeoutMs, "rss download", () => abort.abort(new Error("timeout")));
    } finally {
      clearInterval(timer);
    }
    const seconds = (performance.now() - t0) / 1000;
    sample();
    const st = await fs.stat(job.local);
    if (st.size !== job.bytes) throw new Error(`downloaded ${st.size} bytes, expected ${job.bytes}`);
    const a = c.ssh.algorithms;
    const grew = (k: "heapTotal" | "heapUsed" | "external" | "arrayBuffers") => (atPeak[k] - base[k]) / MiB;
    const atPeakGrowth = { heapTotal: grew("heapTotal"), heapUsed: grew("heapUsed"), external: grew("external"), arrayBuffers: grew("arrayBuffers") };
    return { baselineMiB: baseline, peakMiB: peak, growthMiB: peak - baseline, atPeakGrowth, seconds, mbps: mbps(job.bytes, seconds), samples, negotiated: a.cipherServerToClient };
  } finally {
    await closeQuietly(c);
    await fs.rm(job.local, { force: true });
  }
}

async function sessionsJob(job: Extract<WorkerJob, { kind: "sessions" }>): Promise<SessionsResult> {
  const t0 = performance.now();
  let maxConnectMs = 0;
  const one = async (i: number) => {
    const data = new Uint8Array(job.bytesEach);
    randomFillSync(data);
    const remote = `${job.remoteDir}/session-${i}.bin`;
    const c = await connect(oursOptions(job.server));
    maxConnectMs = Math.max(maxConnectMs, performance.now() - t0);
    try {
      await c.writeFile(remote, data);
      const back = await c.readFile(remote);
      if (back.length !== data.length || Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.length), Buffer.from(data.buffer)) !== 0) {
        throw new Error(`session ${i}: read back ${back.length} bytes that differ from what was written`);
      }
      await c.remove(remote);
    } finally {
      await closeQuietly(c);
    }
  };
  const settled = await withTimeout(
    Promise.allSettled(Array.from({ length: job.count }, (_, i) => one(i))),
    job.timeoutMs, "sessions",
  );
  const seconds = (performance.now() - t0) / 1000;
  const failures = settled.flatMap((r, i) => (r.status === "rejected" ? [`#${i}: ${errorText(r.reason)}`] : []));
  const succeeded = job.count - failures.length;
  return {
    count: job.count, succeeded, failures: failures.slice(0, 10), seconds,
    aggregateMbps: mbps(2 * job.bytesEach * succeeded, seconds), maxConnectMs,
  };
}

async function transferJob(job: Extract<WorkerJob, { kind: "transfer" }>): Promise<{ seconds: number; mbps: number; bytes: number }> {
  const c = await withTimeout(connect(oursOptions(job.server, cipherOptions(job.cc, job.backend))), 60_000, "connect");
  let inspector: Session | undefined;
  try {
    if (job.profilePath) {
      inspector = new Session();
      inspector.connect();
      await inspector.post("Profiler.enable");
      await inspector.post("Profiler.start");
    }
    const t0 = performance.now();
    if (job.direction === "download") await withTimeout(c.download(job.remote, job.local), job.timeoutMs, "download");
    else await withTimeout(c.upload(job.local, job.remote), job.timeoutMs, "upload");
    const seconds = (performance.now() - t0) / 1000;
    if (inspector && job.profilePath) {
      const { profile } = await inspector.post("Profiler.stop");
      await fs.writeFile(job.profilePath, JSON.stringify(profile));
    }
    const bytes = (await fs.stat(job.direction === "download" ? job.local : job.remote)).size;
    return { seconds, mbps: mbps(bytes, seconds), bytes };
  } finally {
    inspector?.disconnect();
    await closeQuietly(c);
  }
}

/** See `peer` above; the timing (connect and close excluded) is the peer module's own. */
async function peerJob(job: Extract<WorkerJob, { kind: "peer" }>): Promise<Omit<TransferTiming, "backend"> & { backend?: string }> {
  const { server, cc, direction, local, remote, timeoutMs } = job;
  if (job.client === "ours-auto" || job.client === "ours-heap" || job.client === "ours-pure") {
    // ours-heap differs from ours-auto only in the flags its process was started with (HEAP_FLAGS).
    return oursTransfer(server, job.client === "ours-pure" ? "pure" : "auto", cc, direction, local, remote, timeoutMs);
  }
  return ssh2Transfer(server, job.client === "ssh2-nodelay", cc, direction, local, remote, timeoutMs);
}

const job = JSON.parse(process.argv[2] ?? "{}") as WorkerJob;
try {
  const result = job.kind === "rss" ? await rssJob(job) : job.kind === "sessions" ? await sessionsJob(job)
    : job.kind === "peer" ? await peerJob(job) : await transferJob(job);
  process.stdout.write(`RESULT ${JSON.stringify({ ok: true, ...result })}\n`);
} catch (e) {
  process.stdout.write(`RESULT ${JSON.stringify({ ok: false, error: errorText(e) })}\n`);
  process.exitCode = 1;
}
// Nothing should keep the child alive once the job is done; if something does (a leaked socket
// or timer), say what and exit anyway.
setTimeout(() => {
  process.stderr.write(`worker: still alive 2 s after the job, active resources: ${process.getActiveResourcesInfo().join(", ")}\n`);
  process.exit();
}, 2000).unref();
