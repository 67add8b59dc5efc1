/**
 * Shared pieces of the benchmark: the cipher cases, the server description every peer gets,
 * timing and verification helpers. MB is 10^6 bytes throughout (MB/s = bytes / seconds / 1e6).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";

export const MiB = 1024 * 1024;
export const MB = 1e6;

export type Direction = "download" | "upload";
export const DIRECTIONS: readonly Direction[] = ["download", "upload"];

export type CipherId = "chacha20-poly1305" | "aes128-gcm" | "aes128-ctr+etm";

export interface CipherCase {
  id: CipherId;
  /** SSH cipher name (what every client is restricted to). */
  cipher: string;
  /** SSH MAC name for non-AEAD ciphers; AEADs leave every client's MAC list at its default. */
  mac?: string;
}

export const CIPHER_CASES: readonly CipherCase[] = [
  { id: "chacha20-poly1305", cipher: "chacha20-poly1305@openssh.com" },
  { id: "aes128-gcm", cipher: "aes128-gcm@openssh.com" },
  { id: "aes128-ctr+etm", cipher: "aes128-ctr", mac: "hmac-sha2-256-etm@openssh.com" },
];

/** Transfer clients, in table / chart order. */
export type ClientId = "ours-auto" | "ours-heap" | "ours-pure" | "ssh2" | "ssh2-nodelay" | "openssh";
export const CLIENTS: readonly ClientId[] = ["ours-auto", "ours-heap", "ours-pure", "ssh2", "ssh2-nodelay", "openssh"];

/**
 * Node flags of the "ours-heap" client: `auto` in a process whose V8 old generation starts at
 * 64 MB. In a small process (a 12 MB heap), V8's default limits made a 256 MiB transfer run 10
 * to 27 full mark-compacts (node:crypto returns a new buffer per packet, which V8 counts as
 * external memory against that limit); with this flag, none or one, and 20-30% less client CPU
 * per MB (bench/results/2026-12-06-v8-heap.md). The flag is not allowed in NODE_OPTIONS: it goes
 * on node's command line (Deno: `--v8-flags=`).
 */
export const HEAP_FLAGS: readonly string[] = ["--initial-old-space-size=64"];

export const CLIENT_LABELS: Record<ClientId, string> = {
  "ours-auto": "ours (auto)",
  "ours-heap": "ours (auto, old space 64 MB)",
  "ours-pure": "ours (pure)",
  ssh2: "ssh2 defaults",
  "ssh2-nodelay": "ssh2 + NODELAY",
  openssh: "OpenSSH sftp",
};

/** What a peer needs to reach the bench server (a plain-data subset of conformance's SshdServer). */
export interface BenchServer {
  host: string;
  port: number;
  username: string;
  /** ed25519 client key: every client authenticates with it (OpenSSH's sftp cannot use a password in batch mode). */
  keyPath: string;
  keyText: string;
  knownHostsPath: string;
  /** Base64 public-key blobs of every host key (ssh2's hostVerifier compares against these). */
  hostKeyBlobs: string[];
}

/** A measurement that may have failed; failures carry a short reason for the table. */
export type Outcome<T> = ({ ok: true } & T) | { ok: false; error: string };

export function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, " ").trim().slice(0, 300) || "unknown error";
}

/** Runs `fn`, turning a throw into `{ ok: false }` so one failing peer never aborts the run. */
export async function attempt<T extends object>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, ...(await fn()) };
  } catch (e) {
    return { ok: false, error: errorText(e) };
  }
}

/**
 * Rejects after `ms` unless `p` settles first; `onTimeout` may abort the work (close the
 * connection, kill the process) so nothing keeps running behind the next measurement.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout?.();
      } catch {
        /* best effort */
      }
      reject(new Error(`${what}: timed out after ${(ms / 1000).toFixed(0)} s`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const mbps = (bytes: number, seconds: number) => bytes / seconds / MB;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Throws unless `path` has exactly `size` bytes (and the given sha256, when asked). */
export async function verifyFile(path: string, size: number, sha256?: string): Promise<"size" | "sha256"> {
  const st = await fs.stat(path).catch(() => undefined);
  if (!st) throw new Error(`verify: ${path} does not exist`);
  if (st.size !== size) throw new Error(`verify: ${path} has ${st.size} bytes, expected ${size}`);
  if (sha256 === undefined) return "size";
  const got = await sha256File(path);
  if (got !== sha256) throw new Error(`verify: sha256 of ${path} is ${got.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…`);
  return "sha256";
}

/** CPU seconds this process used while `fn` ran (user + system), beside the wall time. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, seconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

/**
 * Runs a peer's timed window: the bench measures what it needs beside it (the server's CPU)
 * just before and after, outside the peer's own timing.
 */
export type Around = <T>(window: () => Promise<T>) => Promise<T>;
export const noAround: Around = (window) => window();

/** "2026-01-31-0942" in local time: the results file name. */
export function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`;
}

// --- CPU accounting from /proc (Linux) -------------------------------------------------------

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ; 100 on every common Linux build). */
function ticksPerSecond(): number {
  return (clockTicks ??= 100);
}

/**
 * CPU seconds of a process from /proc/PID/stat: its own user + system time, plus (with
 * `children`) the time of descendants it has already waited for. sshd's listener waits for each
 * connection's processes, so its children total grows by a whole connection once it has closed.
 * Undefined where /proc is missing.
 */
export async function procCpuSeconds(pid: number | "self", children: boolean): Promise<number | undefined> {
  const t = await procTimes(pid);
  return t && (children ? t.own + t.waited : t.own);
}

/** CPU seconds of this process's children that it has waited for (an `sftp` run and its `ssh`). */
export async function childrenCpuSeconds(): Promise<number | undefined> {
  return (await procTimes("self"))?.waited;
}

/** A process's own user + system seconds, and those of the descendants it has waited for. */
async function procTimes(pid: number | "self"): Promise<{ own: number; waited: number } | undefined> {
  const text = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (!text) return undefined;
  // Fields after "(comm)": state is field 3, so field n is at index n - 3.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ").map(Number);
  return { own: (f[11]! + f[12]!) / ticksPerSecond(), waited: (f[13]! + f[14]!) / ticksPerSecond() };
}

/** PID and all its descendants (from /proc/PID/task/PID/children), parents first. */
export async function processTree(pid: number): Promise<number[]> {
  const kids = (await fs.readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => ""))
    .trim().split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...(await Promise.all(kids.map(processTree))).flat()];
}

/**
 * CPU used by a process tree (sshd's listener and every connection process under it) while a
 * measurement runs. sshd's connection processes are not all reaped up the chain (their CPU
 * never reaches the listener's children total), so the tree is sampled every `intervalMs` and
 * each process's own user + system time is taken from its last sample: a process's last
 * < intervalMs before it exits are missed.
 */
export class TreeCpuMeter {
  /** Last CPU seconds seen per process. */
  private readonly seen = new Map<number, number>();
  /** CPU seconds a process already had when the meter started (0 for later ones). */
  private readonly offsets = new Map<number, number>();
  private rootStart = 0;
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(private readonly root: number, private readonly intervalMs: number) {}

  static async start(root: number, intervalMs = 40): Promise<TreeCpuMeter> {
    const m = new TreeCpuMeter(root, intervalMs);
    m.rootStart = (await procCpuSeconds(root, false)) ?? 0;
    for (const pid of (await processTree(root)).slice(1)) m.offsets.set(pid, (await procCpuSeconds(pid, false)) ?? 0);
    m.loop = (async () => {
      while (m.running) {
        await m.sample();
        await sleep(m.intervalMs);
      }
    })();
    return m;
  }

  private async sample(): Promise<void> {
    for (const pid of (await processTree(this.root)).slice(1)) {
      const cpu = await procCpuSeconds(pid, false);
      if (cpu !== undefined) this.seen.set(pid, cpu);
    }
  }

  /** Stops sampling; CPU seconds the tree used since start(). */
  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    await this.sample();
    let total = ((await procCpuSeconds(this.root, false)) ?? this.rootStart) - this.rootStart;
    for (const [pid, cpu] of this.seen) total += Math.max(0, cpu - (this.offsets.get(pid) ?? 0));
    return total;
  }
}

/** Own CPU seconds (user + system) of every process in PID's tree now, by process id. */
export async function treeCpu(root: number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const pid of await processTree(root)) {
    const cpu = await procCpuSeconds(pid, false);
    if (cpu !== undefined) out.set(pid, cpu);
  }
  return out;
}

/**
 * CPU the tree used since `before` (a treeCpu snapshot), in total and by its busiest process.
 * Two snapshots and nothing between them, so the measuring costs nothing while the window runs
 * (TreeCpuMeter's sampling would land in an in-process client's CPU); right for a window in which
 * the processes that do the work outlive it (an open connection's), not for ones that come and go.
 */
export async function treeCpuSince(root: number, before: Map<number, number>): Promise<{ total: number; busiest: number }> {
  let total = 0;
  let busiest = 0;
  for (const [pid, cpu] of await treeCpu(root)) {
    const used = Math.max(0, cpu - (before.get(pid) ?? 0));
    total += used;
    busiest = Math.max(busiest, used);
  }
  return { total, busiest };
}

/** Waits until PID has no child processes (its connections are closed and reaped), up to `ms`. */
export async function waitNoChildren(pid: number, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const kids = await fs.readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
    if (kids.trim() === "") return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}

/**
 * The same files again, aimed at `<remoteDir>.warmup`: an untimed warm-up round, so the timed
 * round measures the steady state of a long-running uploader rather than the JIT compiling the
 * small-file paths (in-process clients only; it is the same for ours and ssh2).
 */
export function warmupList(files: readonly { local: string; remote: string }[], remoteDir: string): { local: string; remote: string }[] {
  return files.map((f, i) => ({ local: f.local, remote: `${remoteDir}.warmup/w${i}` }));
}
