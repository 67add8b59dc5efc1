/**
 * The results of one run (the JSON written to bench/results/) and their markdown rendering:
 * MB/s per cipher × direction × client with ratios to each peer, then the ceiling, connect,
 * small-file, memory and concurrency sections, and which issue-9 targets hold.
 */
import type { CeilingRow } from "./ceiling.js";
import { ceilingFor } from "./ceiling.js";
import {
  CIPHER_CASES, CLIENTS, CLIENT_LABELS, DIRECTIONS, MiB, median,
  type CipherId, type ClientId, type Direction, type Outcome,
} from "./common.js";
import { embeddedRatio, renderEmbedded, type EmbeddedRow } from "./embedded.js";
import type { ProfileSummary } from "./profile.js";
import type { RssResult, SessionsResult } from "./worker.js";

export interface ThroughputRow {
  cipher: CipherId;
  direction: Direction;
  client: ClientId;
  bytes: number;
  mbps?: number;
  seconds?: number;
  /**
   * Client CPU over the transfer's wall time, % of one core: the bench process's own CPU for
   * in-process clients, the sftp + ssh processes' (minus a pwd batch's) for OpenSSH.
   */
  cpuPercent?: number;
  /** sshd's CPU (all processes of the connection, handshake included) over the transfer's wall time. */
  serverCpuPercent?: number;
  verified?: "size" | "sha256";
  negotiated?: string;
  /** Who computed the crypto: our cryptoInfo, or the peer's library. */
  backend?: string;
  note?: string;
  error?: string;
  /** With `--rounds=N`: every run; the fields above are then medians (bench.ts medianRow). */
  runs?: ({ mbps: number; cpuPercent?: number; serverCpuPercent?: number } | { error: string })[];
}

export type ConnectClient = "ours" | "ssh2" | "openssh";
export interface ConnectRow {
  client: ConnectClient;
  samplesMs: number[];
  medianMs?: number;
  negotiated?: string;
  note?: string;
  error?: string;
}

/** "ours" is writeFile's default (atomic); "ours-plain" is `atomic: false`, the work ssh2 does. */
export type SmallFilesClient = "ours" | "ours-plain" | "ssh2" | "openssh";

/** One timed upload of all the files. */
export interface SmallFilesRun {
  seconds: number;
  /** The client's CPU (user + system): the bench process for ours and ssh2, sftp + ssh less a pwd batch for OpenSSH. */
  cpuSeconds?: number;
  /** sshd's CPU over the run, all processes of the connection; OpenSSH's includes its handshake. */
  serverCpuSeconds?: number;
  /** The busiest single sshd process's share of that (internal-sftp runs in one process). */
  serverBusiestCpuSeconds?: number;
  note?: string;
}

export interface SmallFilesRow {
  client: SmallFilesClient;
  files: number;
  bytesEach: number;
  /** Every run, in order (rounds interleaved with the other clients); the fields below are medians. */
  runs?: SmallFilesRun[];
  seconds?: number;
  filesPerSecond?: number;
  /** Files per second of the client's own CPU: its cost per file, whoever was the bottleneck. */
  filesPerCpuSecond?: number;
  /** Client CPU over wall time, % of one core. */
  cpuPercent?: number;
  /** sshd's CPU over wall time, % of one core (all its processes), and its busiest process's. */
  serverCpuPercent?: number;
  serverBusiestPercent?: number;
  note?: string;
  error?: string;
}

/** Fills a row's medians from its runs (a median per quantity, each over the runs that have it). */
export function summariseSmallFiles(row: SmallFilesRow): void {
  const runs = row.runs ?? [];
  if (runs.length === 0) return;
  const med = (f: (r: SmallFilesRun) => number | undefined) => {
    const xs = runs.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
    return xs.length ? median(xs) : undefined;
  };
  row.seconds = med((r) => r.seconds);
  row.filesPerSecond = med((r) => row.files / r.seconds);
  row.filesPerCpuSecond = med((r) => (r.cpuSeconds ? row.files / r.cpuSeconds : undefined));
  row.cpuPercent = med((r) => (r.cpuSeconds === undefined ? undefined : (100 * r.cpuSeconds) / r.seconds));
  row.serverCpuPercent = med((r) => (r.serverCpuSeconds === undefined ? undefined : (100 * r.serverCpuSeconds) / r.seconds));
  row.serverBusiestPercent = med((r) => (r.serverBusiestCpuSeconds === undefined ? undefined : (100 * r.serverBusiestCpuSeconds) / r.seconds));
  const notes = [...new Set(runs.map((r) => r.note).filter(Boolean))];
  if (notes.length) row.note = `${row.note ?? ""} (${notes.join("; ")})`;
}

/**
 * A process at this share of a core or more set the pace: sshd's busiest process (internal-sftp
 * handles a session's requests in one process), or the client (its JavaScript runs on one thread).
 */
export const BOUND_PERCENT = 90;

/**
 * Which measure the small-files target uses, and why. The target is "on a run where the client
 * is the bottleneck": files/s shows the client's cost only when every in-process client row had
 * its client at BOUND_PERCENT and sshd below it. Otherwise (sshd at its limit, or neither side
 * saturated because other work shared the cores) files/s is set by something else for everyone,
 * and files per client CPU-second is the fair comparison.
 */
export function smallFilesMeasure(rows: readonly SmallFilesRow[]): { perCpu: boolean; why: string } {
  const inProcess = rows.filter((x) => x.client !== "openssh" && x.serverBusiestPercent !== undefined && x.cpuPercent !== undefined);
  if (inProcess.length === 0) return { perCpu: false, why: "files/s; CPU figures unknown" };
  const pct = (x: number) => `${x.toFixed(0)}%`;
  const server = Math.max(...inProcess.map((x) => x.serverBusiestPercent!));
  const client = Math.min(...inProcess.map((x) => x.cpuPercent!));
  if (server >= BOUND_PERCENT) {
    return { perCpu: true, why: `files per client CPU-second: sshd's busiest process reached ${pct(server)} of a core, the server was the limit` };
  }
  if (client < BOUND_PERCENT) {
    return { perCpu: true, why: `files per client CPU-second: neither side was the limit (client ${pct(client)} of a core or less, sshd's busiest process ${pct(server)} at most; other work had the cores)` };
  }
  return { perCpu: false, why: `files/s: the client was the limit (${pct(client)} of a core or more; sshd's busiest process ${pct(server)} at most)` };
}

export interface RatioRow {
  cipher: CipherId;
  direction: Direction;
  autoOverOpenssh?: number;
  autoOverSsh2Nodelay?: number;
  pureOverCeiling?: number;
  /**
   * ours-pure's MB per CPU second of the bench process, over the ceiling (also per CPU second):
   * the share of our client's CPU that the cipher itself needs; the rest is overhead (framing,
   * copies, GC, syscalls). Independent of how busy the machine is.
   */
  pureCpuEfficiency?: number;
  /**
   * The same ratios per client CPU second (MB moved per second of the client's own CPU): how
   * much work each client spends per byte, which a busy machine distorts far less than MB/s.
   */
  autoPerCpuOverOpenssh?: number;
  autoPerCpuOverSsh2Nodelay?: number;
  /** ours-heap (auto with HEAP_FLAGS) over OpenSSH sftp: MB/s, and MB per client CPU second. */
  heapOverOpenssh?: number;
  heapPerCpuOverOpenssh?: number;
}

/** MB moved per CPU second of the client (undefined without a CPU figure). */
export function perCpu(r: ThroughputRow | undefined): number | undefined {
  return r?.mbps !== undefined && r.cpuPercent ? r.mbps / (r.cpuPercent / 100) : undefined;
}

export interface TargetRow {
  target: string;
  value?: number;
  goal: string;
  holds?: boolean;
}

export interface ProfileReport {
  cipher: string;
  direction: Direction;
  bytes: number;
  mbps?: number;
  file?: string;
  summary?: ProfileSummary;
  error?: string;
}

export interface BenchResults {
  schema: 1;
  date: string;
  stamp: string;
  quick: boolean;
  durationSeconds: number;
  machine: { cpuModel: string; cpus: number; memGiB: number; os: string; node: string; loadavgStart: number[]; loadavgEnd: number[] };
  software: Record<string, string>;
  config: {
    transferBytes: number; connectRuns: number; smallFiles: number; smallFileBytes: number; smallFileConcurrency: number; smallFileRounds?: number;
    rssBytes: number; sessions: number; sessionBytes: number; ceilingMsEach: number;
  };
  throughput: ThroughputRow[];
  ceiling: CeilingRow[];
  connect: ConnectRow[];
  smallFiles: SmallFilesRow[];
  rss?: Outcome<RssResult>;
  sessions?: Outcome<SessionsResult>;
  profiles?: ProfileReport[];
  /** OpenSSH sftp against the embedded server and against sshd (embedded.ts). */
  embedded?: EmbeddedRow[];
  ratios: RatioRow[];
  targets: TargetRow[];
  notes: string[];
}

export function findThroughput(rows: readonly ThroughputRow[], cipher: CipherId, direction: Direction, client: ClientId): ThroughputRow | undefined {
  return rows.find((r) => r.cipher === cipher && r.direction === direction && r.client === client);
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

export function computeRatios(throughput: readonly ThroughputRow[], ceiling: readonly CeilingRow[]): RatioRow[] {
  const rows: RatioRow[] = [];
  for (const cc of CIPHER_CASES) {
    for (const direction of DIRECTIONS) {
      const v = (c: ClientId) => findThroughput(throughput, cc.id, direction, c)?.mbps;
      rows.push({
        cipher: cc.id,
        direction,
        autoOverOpenssh: ratio(v("ours-auto"), v("openssh")),
        autoOverSsh2Nodelay: ratio(v("ours-auto"), v("ssh2-nodelay")),
        pureOverCeiling: ratio(v("ours-pure"), ceilingFor(ceiling, cc.id, direction)),
        pureCpuEfficiency: ratio(perCpu(findThroughput(throughput, cc.id, direction, "ours-pure")), ceilingFor(ceiling, cc.id, direction)),
        autoPerCpuOverOpenssh: ratio(perCpu(findThroughput(throughput, cc.id, direction, "ours-auto")), perCpu(findThroughput(throughput, cc.id, direction, "openssh"))),
        autoPerCpuOverSsh2Nodelay: ratio(perCpu(findThroughput(throughput, cc.id, direction, "ours-auto")), perCpu(findThroughput(throughput, cc.id, direction, "ssh2-nodelay"))),
        heapOverOpenssh: ratio(v("ours-heap"), v("openssh")),
        heapPerCpuOverOpenssh: ratio(perCpu(findThroughput(throughput, cc.id, direction, "ours-heap")), perCpu(findThroughput(throughput, cc.id, direction, "openssh"))),
      });
    }
  }
  return rows;
}

/** Issue 9's "make it fast" targets, checked against this run's numbers. */
export function computeTargets(r: Pick<BenchResults, "ratios" | "connect" | "smallFiles" | "rss" | "config" | "embedded">): TargetRow[] {
  const t: TargetRow[] = [];
  const ge = (target: string, value: number | undefined, goal: number) =>
    t.push({ target, value, goal: `≥ ${goal}`, holds: value === undefined ? undefined : value >= goal });
  const le = (target: string, value: number | undefined, goal: number, unit = "") =>
    t.push({ target, value, goal: `≤ ${goal}${unit}`, holds: value === undefined ? undefined : value <= goal });
  for (const d of DIRECTIONS) {
    ge(`chacha20-poly1305 pure ${d} / noble ceiling`, r.ratios.find((x) => x.cipher === "chacha20-poly1305" && x.direction === d)?.pureOverCeiling, 0.8);
  }
  for (const d of DIRECTIONS) {
    ge(`aes128-gcm auto ${d} / OpenSSH sftp`, r.ratios.find((x) => x.cipher === "aes128-gcm" && x.direction === d)?.autoOverOpenssh, 1.0);
  }
  const cm = (c: ConnectClient) => r.connect.find((x) => x.client === c)?.medianMs;
  le("connect→SFTP-ready: ours / ssh2 (median)", ratio(cm("ours"), cm("ssh2")), 1.0);
  const m = smallFilesMeasure(r.smallFiles);
  const sf = (c: SmallFilesClient) => r.smallFiles.find((x) => x.client === c)?.[m.perCpu ? "filesPerCpuSecond" : "filesPerSecond"];
  const what = `${r.config.smallFiles} × ${r.config.smallFileBytes / 1024} KiB upload`;
  ge(`${what}: ours (atomic, default) / ssh2, ${m.why}`, ratio(sf("ours"), sf("ssh2")), 1.5);
  if (r.smallFiles.some((x) => x.client === "ours-plain")) ge(`${what}: ours \`atomic: false\` / ssh2, same measure`, ratio(sf("ours-plain"), sf("ssh2")), 1.5);
  for (const d of DIRECTIONS) ge(`OpenSSH sftp ${d}, aes128-gcm: embedded server / sshd`, embeddedRatio(r.embedded, d), 0.8);
  le(`RSS growth while downloading ${(r.config.rssBytes / MiB).toFixed(0)} MiB (MiB)`, r.rss?.ok ? r.rss.growthMiB : undefined, 64);
  return t;
}

// --- markdown --------------------------------------------------------------------------------

const f1 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const f2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "–" : `${x.toFixed(2)}×`);
const cellError = (e: string) => `failed: ${e.replace(/\|/g, "/").slice(0, 70)}`;
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

function throughputCell(r: ThroughputRow | undefined): string {
  if (!r) return "–";
  if (r.error) return cellError(r.error);
  return f1(r.mbps);
}

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const size = `${(r.config.transferBytes / MiB).toFixed(0)} MiB`;
  out.push(`## Benchmark ${r.stamp}${r.quick ? " (--quick)" : ""}`);
  out.push("");
  out.push(
    `${r.machine.cpuModel}, ${r.machine.cpus} cores, ${r.machine.memGiB.toFixed(0)} GiB, ${r.machine.os}, Node ${r.machine.node}; ` +
      `load average ${r.machine.loadavgStart.map((x) => x.toFixed(1)).join("/")} at start, ${r.machine.loadavgEnd.map((x) => x.toFixed(1)).join("/")} at end. ` +
      `${r.software.openssh}; ssh2 ${r.software.ssh2}. Loopback, one sshd for everything; run took ${r.durationSeconds.toFixed(0)} s.`,
  );
  if (r.throughput.length) renderThroughput(r, out, size);
  if (r.ceiling.length) {
    out.push("");
    out.push("### Crypto ceiling, 32 KiB packets, in this process");
    out.push("");
    out.push("MB per wall second and per CPU second (all threads of the process); best of three windows. The ratios use noble's MB per CPU second.");
    out.push("");
    out.push(table(["implementation", "cipher", "in flight", "seal MB/s", "open MB/s", "seal MB/CPU-s", "open MB/CPU-s", "note"], groupCeiling(r.ceiling)));
  }
  if (r.connect.length) renderConnect(r, out);
  if (r.smallFiles.length) renderSmallFiles(r, out);
  if (r.rss || r.sessions) renderMemory(r, out);
  if (r.profiles?.length) renderProfiles(r, out);
  if (r.embedded?.length) out.push(...renderEmbedded(r.embedded));

  out.push("");
  out.push("### Issue 9 targets");
  out.push("");
  out.push(table(["target", "this run", "goal", "holds"], r.targets.map((t) => [
    t.target, t.value === undefined ? "–" : t.target.includes("MiB)") ? f1(t.value) : f2(t.value), t.goal,
    t.holds === undefined ? "n/a" : t.holds ? "yes" : "**no**",
  ])));
  if (r.notes.length) {
    out.push("");
    for (const n of r.notes) out.push(`- ${n}`);
  }
  return out.join("\n") + "\n";
}

function renderThroughput(r: BenchResults, out: string[], size: string): void {
  out.push("");
  out.push(`### Throughput, MB/s (10^6 B/s), ${size} per transfer`);
  out.push("");
  const head = ["cipher", "dir", ...CLIENTS.map((c) => CLIENT_LABELS[c]), "noble ceiling", "auto / OpenSSH", "auto / ssh2+ND", "pure / ceiling", "old space 64 MB / OpenSSH"];
  const rows: string[][] = [];
  for (const cc of CIPHER_CASES) {
    for (const d of DIRECTIONS) {
      const ra = r.ratios.find((x) => x.cipher === cc.id && x.direction === d);
      rows.push([
        cc.id, d === "download" ? "down" : "up",
        ...CLIENTS.map((c) => throughputCell(findThroughput(r.throughput, cc.id, d, c))),
        f1(ceilingFor(r.ceiling, cc.id, d)),
        f2(ra?.autoOverOpenssh), f2(ra?.autoOverSsh2Nodelay), f2(ra?.pureOverCeiling), f2(ra?.heapOverOpenssh),
      ]);
    }
  }
  out.push(table(head, rows));
  out.push("");
  out.push("Who computed the crypto in each column (ours: `SshConnection.cryptoInfo`):");
  out.push("");
  out.push(table(["cipher", ...CLIENTS.map((c) => CLIENT_LABELS[c])], CIPHER_CASES.map((cc) => [
    cc.id,
    ...CLIENTS.map((c) => (findThroughput(r.throughput, cc.id, "download", c) ?? findThroughput(r.throughput, cc.id, "upload", c))?.backend ?? "–"),
  ])));
  out.push("");
  out.push(
    "ours: `upload()` / `download()` (64 requests in flight by default). ssh2: `sftp.fastGet` / `fastPut` with its defaults " +
      "(concurrency 64, chunkSize 32768); \"+ NODELAY\" passes a socket made with `setNoDelay(true)` as `sock`. OpenSSH: `sftp -b` " +
      "with `-o Ciphers=… [-o MACs=…]`, otherwise defaults, timed from the moment its target file appears (inotify) to the " +
      "process's exit, so its start and handshake are left out as they are for the others (see each row's note in the JSON). " +
      "Connect is never in the timed part. \"ours (auto, old space 64 MB)\" is ours (auto) in a process started with " +
      "`node --initial-old-space-size=64`: the same code, with V8's old generation starting at 64 MB instead of growing from a few, " +
      "which removes the full GCs a small process runs during a transfer (node:crypto's per-packet output buffers count against " +
      "that limit as external memory). The targets use ours (auto) with node's defaults. The ceiling is noble's open (download) or seal " +
      "(upload) over 32 KiB packets, MB per CPU second in this process (one core). Each transfer verified by size, the first cipher's by sha256.",
  );
  if (r.throughput.some((x) => x.cpuPercent !== undefined || x.serverCpuPercent !== undefined)) {
    out.push("");
    out.push(
      "CPU while transferring, % of one core, client / sshd (2 cores = 200%). Client: the fresh child process of each transfer for ours and ssh2, " +
        "the `sftp` + `ssh` processes for OpenSSH; sshd: every process of that connection (handshake included):",
    );
    out.push("");
    out.push(table(["cipher", "dir", ...CLIENTS.map((c) => CLIENT_LABELS[c]), "ours pure: MB per CPU-s / ceiling"], CIPHER_CASES.flatMap((cc) => DIRECTIONS.map((d) => [
      cc.id, d === "download" ? "down" : "up",
      ...CLIENTS.map((c) => {
        const x = findThroughput(r.throughput, cc.id, d, c);
        if (!x || x.error) return "–";
        const p = (v: number | undefined) => (v === undefined ? "?" : v.toFixed(0));
        return `${p(x.cpuPercent)} / ${p(x.serverCpuPercent)}`;
      }),
      f2(r.ratios.find((x) => x.cipher === cc.id && x.direction === d)?.pureCpuEfficiency),
    ]))));
    out.push("");
    out.push(
      "MB moved per second of the client's own CPU (MB/s ÷ client CPU share): the cost per byte, which a loaded machine distorts " +
        "much less than MB/s does (it still counts the client's GC and system time):",
    );
    out.push("");
    out.push(table(["cipher", "dir", ...CLIENTS.map((c) => CLIENT_LABELS[c]), "auto / OpenSSH", "auto / ssh2+ND", "old space 64 MB / OpenSSH"], CIPHER_CASES.flatMap((cc) => DIRECTIONS.map((d) => {
      const ra = r.ratios.find((x) => x.cipher === cc.id && x.direction === d);
      return [
        cc.id, d === "download" ? "down" : "up",
        ...CLIENTS.map((c) => f1(perCpu(findThroughput(r.throughput, cc.id, d, c)))),
        f2(ra?.autoPerCpuOverOpenssh), f2(ra?.autoPerCpuOverSsh2Nodelay), f2(ra?.heapPerCpuOverOpenssh),
      ];
    }))));
  }
  const repeated = r.throughput.filter((x) => x.runs && x.note);
  if (repeated.length) {
    out.push("");
    out.push("Each case was run several times, the clients interleaved; the tables show medians. Every run:");
    out.push("");
    for (const x of repeated) out.push(`- ${x.cipher} ${x.direction} ${CLIENT_LABELS[x.client]}: ${x.note}`);
  }

}

function renderConnect(r: BenchResults, out: string[]): void {
  out.push("");
  out.push(`### Connect → SFTP ready (median of ${r.config.connectRuns} after one discarded warm-up each, interleaved, ms)`);
  out.push("");
  const cm = (c: ConnectClient) => r.connect.find((x) => x.client === c)?.medianMs;
  out.push(table(["client", "median ms", "min–max", "negotiated", "ours / this"], r.connect.map((c) => [
    c.client === "openssh" ? "OpenSSH `sftp` process (`pwd` batch)" : c.client === "ssh2" ? "ssh2 in-process" : "ours in-process",
    c.error ? cellError(c.error) : f1(c.medianMs),
    c.samplesMs.length ? `${f1(Math.min(...c.samplesMs))}–${f1(Math.max(...c.samplesMs))}` : "–",
    c.negotiated ?? "–",
    c.client === "ours" ? "" : f2(ratio(cm("ours"), c.medianMs)),
  ])));
}

function renderSmallFiles(r: BenchResults, out: string[]): void {
  out.push("");
  const rounds = r.smallFiles[0]?.runs?.length;
  out.push(`### ${r.config.smallFiles} files × ${r.config.smallFileBytes / 1024} KiB uploaded${rounds ? ` (median of ${rounds} interleaved rounds)` : ""}`);
  out.push("");
  const ssh2 = r.smallFiles.find((x) => x.client === "ssh2");
  const pct = (x: number | undefined) => (x === undefined ? "–" : `${x.toFixed(0)}%`);
  const label: Record<SmallFilesClient, string> = { ours: "ours (atomic, default)", "ours-plain": "ours `atomic: false`", ssh2: "ssh2", openssh: "OpenSSH sftp" };
  out.push(table(["client", "seconds", "files/s", "this / ssh2", "files per client CPU-s", "this / ssh2", "client CPU", "sshd CPU (busiest process)", "how"], r.smallFiles.map((s) => [
    label[s.client] ?? s.client,
    s.error && s.seconds === undefined ? cellError(s.error) : s.seconds === undefined ? "–" : s.seconds.toFixed(2),
    f1(s.filesPerSecond),
    s.client === "ssh2" ? "" : f2(ratio(s.filesPerSecond, ssh2?.filesPerSecond)),
    f1(s.filesPerCpuSecond),
    s.client === "ssh2" ? "" : f2(ratio(s.filesPerCpuSecond, ssh2?.filesPerCpuSecond)),
    pct(s.cpuPercent),
    `${pct(s.serverCpuPercent)} (${pct(s.serverBusiestPercent)})`,
    `${s.note ?? ""}${s.error && s.seconds !== undefined ? ` (a run ${cellError(s.error)})` : ""}`,
  ])));
  out.push("");
  out.push(
    "ours and ssh2 each upload the same files once, untimed, on the same connection before each timed run (steady state: neither is timed while the JIT is still compiling its small-file paths); `sftp` is a fresh native process. " +
      "CPU is % of one core (2 cores = 200%); the client's is the bench process's own, sshd's that of the connection's processes over the same window. " +
      `Files per client CPU-second is the client's cost per file whoever set the pace; files/s shows it only when the client is the bottleneck (its CPU at ${BOUND_PERCENT}% of a core or more, sshd's busiest process below that). ` +
      `Target measure this run: ${smallFilesMeasure(r.smallFiles).why}.`,
  );
  const runs = r.smallFiles.filter((s) => s.runs?.length);
  if (runs.length) {
    out.push("");
    out.push("Every run, files/s and files per client CPU-second, in the order they ran:");
    out.push("");
    out.push(table(["client", "files/s", "files per client CPU-s"], runs.map((s) => [
      label[s.client] ?? s.client,
      s.runs!.map((x) => (s.files / x.seconds).toFixed(0)).join(", "),
      s.runs!.map((x) => (x.cpuSeconds ? (s.files / x.cpuSeconds).toFixed(0) : "?")).join(", "),
    ])));
  }
}

function renderMemory(r: BenchResults, out: string[]): void {
  out.push("");
  out.push("### Memory and concurrency (ours)");
  out.push("");
  if (r.rss) {
    out.push(r.rss.ok
      ? `- Downloading ${(r.config.rssBytes / MiB).toFixed(0)} MiB in a fresh child process (${r.rss.negotiated}, ${f1(r.rss.mbps)} MB/s): RSS ${f1(r.rss.baselineMiB)} MiB after connect, peak ${f1(r.rss.peakMiB)} MiB, **growth ${f1(r.rss.growthMiB)} MiB** (${r.rss.samples} samples every 50 ms)${r.rss.atPeakGrowth ? `; at the peak the V8 heap had grown by ${f1(r.rss.atPeakGrowth.heapTotal)} MiB and ArrayBuffers by ${f1(r.rss.atPeakGrowth.arrayBuffers)} MiB, the rest being native memory (malloc, OpenSSL, threads)` : ""}.`
      : `- RSS test ${cellError(r.rss.error)}`);
  }
  if (r.sessions) {
    const s = r.sessions;
    out.push(s.ok
      ? `- ${s.count} concurrent connections (one SFTP session each, in one child process), each writing ${(r.config.sessionBytes / MiB).toFixed(0)} MiB and reading it back: **${s.succeeded}/${s.count} succeeded**, ${f1(s.seconds)} s wall (connects included; slowest connect ${f1(s.maxConnectMs)} ms), aggregate **${f1(s.aggregateMbps)} MB/s** (bytes written + read).${s.failures.length ? ` Failures: ${s.failures.join("; ")}` : ""}`
      : `- Concurrent sessions ${cellError(s.error)}`);
  }
}

function renderProfiles(r: BenchResults, out: string[]): void {
  if (r.profiles?.length) {
    out.push("");
    out.push("### Where the time goes (ours, V8 CPU profile of the transfer alone, self time)");
    for (const p of r.profiles) {
      out.push("");
      if (p.error || !p.summary) {
        out.push(`${p.cipher} ${p.direction}: ${cellError(p.error ?? "no profile")}`);
        continue;
      }
      out.push(`${p.cipher} ${p.direction}, ${(p.bytes / MiB).toFixed(0)} MiB at ${f1(p.mbps)} MB/s under the profiler (${p.file ?? ""}):`);
      out.push("");
      out.push(table(["self %", "function", "", "self %", "file"], Array.from({ length: Math.max(p.summary.functions.length, p.summary.files.length) }, (_, i) => {
        const a = p.summary!.functions[i];
        const b = p.summary!.files[i];
        return [a ? a.percent.toFixed(1) : "", a ? `\`${a.name}\`` : "", "", b ? b.percent.toFixed(1) : "", b ? `\`${b.name}\`` : ""];
      }).slice(0, 12)));
    }
  }

}

function groupCeiling(rows: readonly CeilingRow[]): string[][] {
  const keys: string[] = [];
  const by = new Map<string, CeilingRow[]>();
  for (const row of rows) {
    const k = `${row.impl}|${row.cipher}|${row.inFlight}`;
    if (!by.has(k)) {
      by.set(k, []);
      keys.push(k);
    }
    by.get(k)!.push(row);
  }
  return keys.map((k) => {
    const g = by.get(k)!;
    const cell = (op: "seal" | "open", cpu: boolean) => {
      const x = g.find((y) => y.op === op);
      return !x ? "–" : x.error ? cellError(x.error) : f1(cpu ? x.mbpsCpu : x.mbps);
    };
    return [g[0]!.impl, g[0]!.cipher, String(g[0]!.inFlight), cell("seal", false), cell("open", false), cell("seal", true), cell("open", true), g.find((y) => y.note)?.note ?? ""];
  });
}
