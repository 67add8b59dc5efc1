/**
 * `npm run bench [-- --quick] [-- --profile [--profile-backend=pure]]`: this project against ssh2 and OpenSSH's sftp, all
 * in one run against one private OpenSSH sshd (conformance/sshd.ts, the same setup as the
 * conformance suites). Issue 9, item 1 and the chart of item 3.
 *
 * Sections, each measurement isolated (a failure is recorded as "failed: reason" and the run
 * goes on): crypto ceiling; throughput per cipher × direction × client; connect → SFTP ready;
 * many small files; RSS growth over a large download and many concurrent sessions (child
 * processes); optionally (--profile) CPU profiles of our chacha20 and aes128-gcm downloads and uploads.
 *
 * Writes bench/results/<YYYY-MM-DD-HHMM>.{json,md,svg} and latest.{json,md,svg}, and prints the
 * markdown at the end (progress goes to stderr). Needs root (sshd for a test user), like
 * conformance. sshd is stopped and temp files are removed at the end, on error and on Ctrl-C.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_USER, startSshd, type SshdServer } from "../conformance/sshd.js";
import { ceilingFor, measureCeiling, type CeilingRow } from "./ceiling.js";
import { renderChart } from "./chart.js";
import {
  CIPHER_CASES, CLIENTS, CLIENT_LABELS, DIRECTIONS, HEAP_FLAGS, MiB,
  type BenchServer, type CipherCase, type ClientId, type Direction, type Outcome,
  attempt, errorText, mbps, median, procCpuSeconds, sha256File, stamp, verifyFile, waitNoChildren, TreeCpuMeter,
} from "./common.js";
import { batch, opensshVersion, runSftp } from "./peers/openssh.js";
import { oursConnectMs } from "./peers/ours.js";
import { ssh2ConnectMs, ssh2Version } from "./peers/ssh2.js";
import { embeddedSection } from "./embedded.js";
import { summariseProfile } from "./profile.js";
import { smallFilesSection } from "./small-files.js";
import { renderRtt, rttSection, type RttConfig, type RttRow } from "./rtt.js";
import {
  computeRatios, computeTargets, renderMarkdown,
  type BenchResults, type ConnectRow, type ProfileReport, type ThroughputRow,
} from "./report.js";
import type { RssResult, SessionsResult, WorkerJob } from "./worker.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const RESULTS_DIR = path.join(BENCH_DIR, "results");

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const wantProfile = argv.includes("--profile");
/** `--profile-backend=pure`: profile the pure (noble) backend instead of auto. */
const profileBackend: "auto" | "pure" = argv.includes("--profile-backend=pure") ? "pure" : "auto";
const onlyArg = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const rttIndex = argv.indexOf("--rtt");
/** `--rtt MS`: only the long-link comparison (bench/rtt.ts), at MS and at 0 ms. */
const rttArg = rttIndex >= 0 ? Number(argv[rttIndex + 1]) : undefined;
if (rttArg !== undefined && !(rttArg > 0 && rttArg <= 2000)) throw new Error("--rtt takes a round trip in milliseconds, from 1 to 2000");
/** `--rtt-cases=files-up,files-down`, `--rtt-clients=ours-1-stream,ours-default`, `--rtt-rounds=3`: a subset, each client run `rounds` times interleaved (A/B/A/B…). */
const listArg = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).split(",").filter(Boolean);
const rttRounds = Number(listArg("rtt-rounds")?.[0] ?? 1);
/** `--rounds=N`: each throughput case N times, the clients interleaved (A/B/C/A/B/C…); rows show medians. `--ciphers=aes128-gcm,…`: a subset of the ciphers. */
const throughputRounds = Math.max(1, Number(listArg("rounds")?.[0] ?? 1));
const cipherIds = listArg("ciphers");
/** `--clients=ours-auto,ssh2-nodelay,openssh`: a subset of the throughput clients. */
const clientIds = listArg("clients");
const throughputClients = CLIENTS.filter((c) => !clientIds || clientIds.includes(c));
const only = rttArg !== undefined ? new Set(["rtt"]) : onlyArg ? new Set(onlyArg.split(",")) : undefined;
const want = (section: string) => !only || only.has(section);

const CONFIG = quick
  ? { transferBytes: 32 * MiB, connectRuns: 5, smallFiles: 200, smallFileBytes: 4096, smallFileConcurrency: 16, smallFileRounds: 3, rssBytes: 128 * MiB, sessions: 20, sessionBytes: 4 * MiB, ceilingMsEach: 240 }
  : { transferBytes: 256 * MiB, connectRuns: 20, smallFiles: 1000, smallFileBytes: 4096, smallFileConcurrency: 16, smallFileRounds: 5, rssBytes: 1024 * MiB, sessions: 100, sessionBytes: 4 * MiB, ceilingMsEach: 1500 };

/** Generous per-transfer limit: 30 s plus 1 s per MB (a peer slower than 1 MB/s is broken anyway). */
const transferTimeout = (bytes: number) => 30_000 + bytes / 1000;

const log = (line: string) => process.stderr.write(line + "\n");

// --- cleanup ---------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let server: SshdServer | undefined;

function cleanupSync(): void {
  for (const c of children) c.kill("SIGKILL");
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  // conformance/sshd.ts's exit hook kills sshd and removes its dir.
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    log(`\n${sig}: stopping sshd and removing temp files`);
    cleanupSync();
    process.exit(130);
  });
}

// --- setup -----------------------------------------------------------------------------------

async function writeRandomFile(file: string, bytes: number, repeatBlock = false): Promise<void> {
  const h = await fs.open(file, "w");
  try {
    const block = Buffer.allocUnsafe(Math.min(bytes, 4 * MiB));
    randomFillSync(block);
    for (let done = 0; done < bytes; ) {
      const n = Math.min(block.length, bytes - done);
      if (!repeatBlock) randomFillSync(block, 0, n);
      await h.write(block, 0, n, done);
      done += n;
    }
  } finally {
    await h.close();
  }
}

export interface Setup {
  s: BenchServer;
  localDir: string;
  remoteDir: string;
  uid: number;
  gid: number;
  src: { local: string; remote: string; sha256: string };
}

async function setup(sshd: SshdServer): Promise<Setup> {
  const s: BenchServer = {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    keyPath: sshd.clientKeyPaths.ed25519,
    keyText: sshd.clientKeys.ed25519,
    knownHostsPath: sshd.knownHostsPath,
    hostKeyBlobs: sshd.hostKeys.map((k) => k.publicKeyLine.split(" ")[1]!),
  };
  const localDir = await fs.mkdtemp(path.join(os.tmpdir(), "puresftp-bench-"));
  tempDirs.add(localDir);
  const home = execFileSync("getent", ["passwd", TEST_USER], { encoding: "utf8" }).trim().split(":")[5]!;
  const { uid, gid } = await fs.stat(home);
  const remoteDir = path.join(home, `puresftp-bench-${process.pid}-${Date.now()}`);
  tempDirs.add(remoteDir);
  await fs.mkdir(remoteDir);
  await fs.chown(remoteDir, uid, gid);
  const local = path.join(localDir, "src.bin");
  const remote = path.join(remoteDir, "src.bin");
  await writeRandomFile(local, CONFIG.transferBytes);
  await fs.copyFile(local, remote);
  await fs.chown(remote, uid, gid);
  return { s, localDir, remoteDir, uid, gid, src: { local, remote, sha256: await sha256File(local) } };
}

// --- throughput ------------------------------------------------------------------------------

/** Times `pwd`-only batches: the OpenSSH process's own cost (spawn, handshake, exit), wall and CPU. */
async function opensshHandshake(st: Setup, cc: CipherCase | undefined, runs: number): Promise<{ seconds: number; cpuSeconds: number }> {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = await procCpuSeconds("self", true);
    times.push((await runSftp(st.s, st.localDir, [batch.pwd()], 60_000, cc)).seconds);
    const c1 = await procCpuSeconds("self", true);
    cpu.push(c0 !== undefined && c1 !== undefined ? c1 - c0 : 0);
  }
  return { seconds: median(times), cpuSeconds: median(cpu) };
}

async function measureTransfer(
  st: Setup, cc: CipherCase, direction: Direction, client: ClientId, sha: boolean,
  opensshBaseline: Outcome<{ seconds: number; cpuSeconds: number }>,
): Promise<ThroughputRow> {
  const bytes = CONFIG.transferBytes;
  const row: ThroughputRow = { cipher: cc.id, direction, client, bytes };
  const tag = `${client}-${cc.id}`;
  const local = direction === "download" ? path.join(st.localDir, `down-${tag}.bin`) : st.src.local;
  const remote = direction === "upload" ? path.join(st.remoteDir, `up-${tag}.bin`) : st.src.remote;
  const timeout = transferTimeout(bytes);
  const sshdPid = server!.pid;
  let meter: TreeCpuMeter | undefined;
  try {
    let seconds: number;
    let cpuSeconds: number | undefined;
    // A previous connection's processes may still be exiting: let them go first.
    await waitNoChildren(sshdPid);
    meter = await TreeCpuMeter.start(sshdPid);
    if (client !== "openssh") {
      // In a fresh process: see worker.ts (`peer`).
      const t = await runWorker<{ seconds: number; cpuSeconds: number; negotiated: string; backend?: string }>(
        { kind: "peer", client, server: st.s, cc, direction, local, remote, timeoutMs: timeout }, client === "ours-heap" ? [...HEAP_FLAGS] : [], timeout + 150_000,
      );
      if (!t.ok) throw new Error(t.error);
      ({ seconds, cpuSeconds } = t);
      row.negotiated = t.negotiated;
      row.backend = t.backend ?? "ssh2: OpenSSL (its sshcrypto binding for chacha20/gcm, node:crypto for ctr/hmac)";
    } else {
      row.backend = "OpenSSH: libcrypto (OpenSSL)";
      const line = direction === "download" ? batch.get(remote, local) : batch.put(local, remote);
      const c0 = await procCpuSeconds("self", true);
      const target = direction === "download" ? local : remote;
      const run = await runSftp(st.s, st.localDir, [line], timeout, cc, { dir: path.dirname(target), name: path.basename(target) });
      const c1 = await procCpuSeconds("self", true);
      if (run.fromCreateSeconds !== undefined && run.fromCreateSeconds > 0) {
        seconds = run.fromCreateSeconds;
        row.note = `process ${run.seconds.toFixed(3)} s; ${seconds.toFixed(3)} s from file creation to exit`;
      } else if (opensshBaseline.ok && run.seconds - opensshBaseline.seconds > 0.01) {
        seconds = run.seconds - opensshBaseline.seconds;
        row.note = `process ${run.seconds.toFixed(3)} s − pwd-only batch ${opensshBaseline.seconds.toFixed(3)} s (file creation not seen)`;
      } else {
        seconds = run.seconds;
        row.note = `process ${run.seconds.toFixed(3)} s, handshake included${opensshBaseline.ok ? "" : ` (${opensshBaseline.error})`}`;
      }
      row.negotiated = `${cc.cipher}${cc.mac ? ` + ${cc.mac}` : ""}`;
      // The sftp process and its ssh child, reaped by us: their CPU minus a pwd batch's.
      if (c0 !== undefined && c1 !== undefined) cpuSeconds = Math.max(0, c1 - c0 - (opensshBaseline.ok ? opensshBaseline.cpuSeconds : 0));
    }
    await waitNoChildren(sshdPid, 1000);
    const serverCpu = await meter.stop();
    meter = undefined;
    row.verified = await verifyFile(direction === "download" ? local : remote, bytes, sha ? st.src.sha256 : undefined);
    row.seconds = seconds;
    row.mbps = mbps(bytes, seconds);
    if (cpuSeconds !== undefined) row.cpuPercent = (100 * cpuSeconds) / seconds;
    row.serverCpuPercent = (100 * serverCpu) / seconds;
  } catch (e) {
    row.error = errorText(e);
  } finally {
    await meter?.stop();
    if (direction === "download") await fs.rm(local, { force: true });
    else await fs.rm(remote, { force: true });
  }
  return row;
}

const pct = (x: number | undefined) => (x === undefined ? "?" : `${x.toFixed(0)}%`);

async function throughputSection(st: Setup, ceiling: readonly CeilingRow[]): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const [i, cc] of CIPHER_CASES.entries()) {
    if (cipherIds && !cipherIds.includes(cc.id)) continue;
    const baseline = await attempt(() => opensshHandshake(st, cc, quick ? 1 : 3));
    log(`${cc.id}: OpenSSH sftp handshake (pwd batch) ${baseline.ok ? `${(baseline.seconds * 1000).toFixed(0)} ms` : `failed: ${baseline.error}`}`);
    for (const direction of DIRECTIONS) {
      const runs = new Map<ClientId, ThroughputRow[]>();
      for (let round = 0; round < throughputRounds; round++) {
        for (const client of throughputClients) {
          const row = await measureTransfer(st, cc, direction, client, i === 0 && round === 0, baseline);
          runs.set(client, [...(runs.get(client) ?? []), row]);
          const ceil = ceilingFor(ceiling, cc.id, direction);
          log(`  ${cc.id.padEnd(18)} ${direction.padEnd(8)} ${CLIENT_LABELS[client].padEnd(15)} ${
            row.error ? `failed: ${row.error}` : `${row.mbps!.toFixed(1).padStart(7)} MB/s  (${row.seconds!.toFixed(2)} s, cpu client ${pct(row.cpuPercent)} sshd ${pct(row.serverCpuPercent)}, ${row.verified}${ceil && client === "ours-pure" ? `, ${(row.mbps! / ceil).toFixed(2)}× ceiling` : ""}) [${row.backend ?? "?"}]`
          }`);
        }
      }
      for (const client of throughputClients) rows.push(medianRow(runs.get(client)!));
    }
  }
  return rows;
}

/**
 * One row for several runs of a case: the median MB/s and the median MB per client CPU second
 * (each over the runs that have it), every run listed in `runs` and the note. One run is itself.
 */
function medianRow(runs: ThroughputRow[]): ThroughputRow {
  const ok = runs.filter((r) => !r.error && r.mbps !== undefined);
  if (runs.length === 1 || ok.length === 0) return runs[0]!;
  const mb = median(ok.map((r) => r.mbps!));
  const perCpu = ok.filter((r) => r.cpuPercent).map((r) => (100 * r.mbps!) / r.cpuPercent!);
  const server = ok.filter((r) => r.serverCpuPercent !== undefined).map((r) => r.serverCpuPercent!);
  const row: ThroughputRow = { ...ok[0]!, mbps: mb, seconds: ok[0]!.bytes / (mb * 1e6) };
  row.cpuPercent = perCpu.length ? (100 * mb) / median(perCpu) : undefined;
  row.serverCpuPercent = server.length ? median(server) : undefined;
  row.runs = runs.map((r) => (r.error ? { error: r.error } : { mbps: r.mbps!, cpuPercent: r.cpuPercent, serverCpuPercent: r.serverCpuPercent }));
  row.note = `median of ${ok.length} runs${ok.length < runs.length ? ` (${runs.length - ok.length} failed)` : ""}: MB/s ${ok.map((r) => r.mbps!.toFixed(0)).join(", ")}; MB per CPU-s ${perCpu.map((x) => x.toFixed(0)).join(", ")}`;
  return row;
}

// --- connect ---------------------------------------------------------------------------------

async function connectSection(st: Setup): Promise<{ rows: ConnectRow[]; serverVersion?: string }> {
  const samples = { ours: [] as number[], ssh2: [] as number[], openssh: [] as number[] };
  const errors: Partial<Record<keyof typeof samples, string>> = {};
  const negotiated: Partial<Record<keyof typeof samples, string>> = {};
  const once = async (k: keyof typeof samples, fn: () => Promise<number>, keep: boolean) => {
    if (errors[k]) return;
    try {
      const ms = await fn();
      if (keep) samples[k].push(ms);
    } catch (e) {
      errors[k] = errorText(e);
    }
  };
  // One unrecorded warm-up each (JIT, page cache), then the runs interleaved so load drift hits all alike.
  for (let i = -1; i < CONFIG.connectRuns; i++) {
    await once("ours", async () => {
      const r = await oursConnectMs(st.s);
      negotiated.ours = r.negotiated;
      return r.ms;
    }, i >= 0);
    await once("ssh2", async () => {
      const r = await ssh2ConnectMs(st.s, false);
      negotiated.ssh2 = r.negotiated;
      return r.ms;
    }, i >= 0);
    await once("openssh", async () => 1000 * (await runSftp(st.s, st.localDir, [batch.pwd()], 60_000)).seconds, i >= 0);
  }
  negotiated.openssh = "OpenSSH defaults (-F /dev/null)";
  const rows = (["ours", "ssh2", "openssh"] as const).map((client): ConnectRow => ({
    client,
    samplesMs: samples[client],
    ...(samples[client].length ? { medianMs: median(samples[client]) } : {}),
    ...(negotiated[client] ? { negotiated: negotiated[client] } : {}),
    ...(errors[client] ? { error: errors[client] } : {}),
  }));
  for (const r of rows) log(`  connect ${r.client.padEnd(8)} ${r.error ? `failed: ${r.error}` : `median ${r.medianMs!.toFixed(1)} ms (${r.negotiated})`}`);
  return { rows };
}

// --- child-process jobs ----------------------------------------------------------------------

/** Runs bench/worker.ts in a child process; resolves with its RESULT line. */
function runWorker<T extends object>(job: WorkerJob, nodeFlags: string[], timeoutMs: number): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", path.join(BENCH_DIR, "worker.ts"), JSON.stringify(job)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ ok: false, error: errorText(e) });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (stderr.trim()) log(`  (worker ${job.kind} stderr: ${stderr.trim().split("\n").slice(-3).join(" / ")})`);
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (line) return resolve(JSON.parse(line.slice("RESULT ".length)) as Outcome<T>);
      resolve({ ok: false, error: signal === "SIGKILL" ? `timed out after ${(timeoutMs / 1000).toFixed(0)} s` : `worker exited ${code ?? signal}: ${stderr.trim().slice(-200)}` });
    });
  });
}

async function rssSection(st: Setup): Promise<Outcome<RssResult>> {
  const remote = path.join(st.remoteDir, "rss.bin");
  const local = path.join(st.localDir, "rss.bin");
  try {
    await writeRandomFile(remote, CONFIG.rssBytes, true);
    await fs.chown(remote, st.uid, st.gid);
    const cc = CIPHER_CASES[0]!;
    const r = await runWorker<RssResult>(
      { kind: "rss", server: st.s, cc, backend: "auto", remote, local, bytes: CONFIG.rssBytes, timeoutMs: transferTimeout(CONFIG.rssBytes) },
      ["--expose-gc"], transferTimeout(CONFIG.rssBytes) + 30_000,
    );
    log(`  rss ${r.ok ? `growth ${r.growthMiB.toFixed(1)} MiB (baseline ${r.baselineMiB.toFixed(1)}, peak ${r.peakMiB.toFixed(1)}; at the peak V8 heap +${r.atPeakGrowth.heapTotal.toFixed(1)} reserved, +${r.atPeakGrowth.heapUsed.toFixed(1)} used, external +${r.atPeakGrowth.external.toFixed(1)}, of it ArrayBuffers +${r.atPeakGrowth.arrayBuffers.toFixed(1)}) at ${r.mbps.toFixed(1)} MB/s` : `failed: ${r.error}`}`);
    return r;
  } finally {
    await fs.rm(remote, { force: true });
    await fs.rm(local, { force: true });
  }
}

async function sessionsSection(st: Setup): Promise<Outcome<SessionsResult>> {
  const dir = path.join(st.remoteDir, "sessions");
  await fs.mkdir(dir);
  await fs.chown(dir, st.uid, st.gid);
  try {
    const timeoutMs = 60_000 + CONFIG.sessions * 3000;
    const r = await runWorker<SessionsResult>(
      { kind: "sessions", server: st.s, count: CONFIG.sessions, bytesEach: CONFIG.sessionBytes, remoteDir: dir, timeoutMs },
      [], timeoutMs + 30_000,
    );
    log(`  sessions ${r.ok ? `${r.succeeded}/${r.count} ok in ${r.seconds.toFixed(2)} s, ${r.aggregateMbps.toFixed(1)} MB/s aggregate${r.failures.length ? `; ${r.failures.join("; ")}` : ""}` : `failed: ${r.error}`}`);
    return r;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function profileSection(st: Setup, runStamp: string): Promise<ProfileReport[]> {
  const profDir = path.join(RESULTS_DIR, "profiles");
  await fs.mkdir(profDir, { recursive: true });
  const reports: ProfileReport[] = [];
  // chacha20-poly1305 and aes128-gcm: the two AEADs, whose per-packet costs differ most by backend.
  for (const [cc, direction] of CIPHER_CASES.slice(0, 2).flatMap((c) => DIRECTIONS.map((d) => [c, d] as const))) {
    const name = `${runStamp}-${cc.id}-${direction}${profileBackend === "pure" ? "-pure" : ""}.cpuprofile`;
    const local = direction === "download" ? path.join(st.localDir, "prof-down.bin") : st.src.local;
    const remote = direction === "download" ? st.src.remote : path.join(st.remoteDir, "prof-up.bin");
    const report: ProfileReport = { cipher: cc.id, direction, bytes: CONFIG.transferBytes };
    try {
      const r = await runWorker<{ mbps: number }>(
        { kind: "transfer", server: st.s, cc, backend: profileBackend, direction, remote, local, timeoutMs: transferTimeout(CONFIG.transferBytes), profilePath: path.join(profDir, name) },
        [], transferTimeout(CONFIG.transferBytes) + 30_000,
      );
      if (!r.ok) throw new Error(r.error);
      report.mbps = r.mbps;
      report.file = path.relative(ROOT, path.join(profDir, name));
      report.summary = await summariseProfile(path.join(profDir, name));
      log(`  profile ${cc.id} ${direction}: ${r.mbps.toFixed(1)} MB/s; top: ${report.summary.functions.slice(0, 4).map((f) => `${f.name.split(" ")[0]} ${f.percent.toFixed(0)}%`).join(", ")}`);
    } catch (e) {
      report.error = errorText(e);
      log(`  profile ${cc.id} ${direction}: failed: ${report.error}`);
    } finally {
      if (direction === "download") await fs.rm(local, { force: true });
      else await fs.rm(remote, { force: true });
    }
    reports.push(report);
  }
  return reports;
}

// --- main ------------------------------------------------------------------------------------

function machine() {
  const osRelease = (() => {
    try {
      return /PRETTY_NAME="?([^"\n]+)/.exec(execFileSync("cat", ["/etc/os-release"], { encoding: "utf8" }))?.[1];
    } catch {
      return undefined;
    }
  })();
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown CPU",
    cpus: os.cpus().length,
    memGiB: os.totalmem() / 1024 ** 3,
    os: osRelease ?? `${os.type()} ${os.release()}`,
    node: process.versions.node,
  };
}

function software(serverVersion: string | undefined): Record<string, string> {
  const require = createRequire(import.meta.url);
  const v = (p: string) => {
    try {
      return (require(`${p}/package.json`) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  return {
    openssh: opensshVersion(),
    sshd: serverVersion ?? "?",
    ssh2: ssh2Version,
    "@noble/ciphers": v("@noble/ciphers"),
    "@noble/hashes": v("@noble/hashes"),
  };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const runStamp = stamp();
  const loadavgStart = os.loadavg();
  log(`bench ${runStamp}${quick ? " --quick" : ""}: ${CONFIG.transferBytes / MiB} MiB transfers, ${os.cpus().length} cores, load ${loadavgStart.map((x) => x.toFixed(1)).join(" ")}`);

  const results: BenchResults = {
    schema: 1, date: new Date().toISOString(), stamp: runStamp, quick, durationSeconds: 0,
    machine: { ...machine(), loadavgStart, loadavgEnd: [] },
    software: {},
    config: CONFIG,
    throughput: [], ceiling: [], connect: [], smallFiles: [], ratios: [], targets: [],
    notes: [],
  };
  if (quick) results.notes.push("Quick run: smaller sizes and counts than the full bench; numbers are noisier.");
  if (loadavgStart[0]! > os.cpus().length) {
    results.notes.push(`The machine was busy (load average ${loadavgStart[0]!.toFixed(1)} on ${os.cpus().length} cores): absolute numbers are low and noisy; ratios from one run are the fairer comparison.`);
  }

  let rttRows: RttRow[] | undefined;
  try {
    log("starting sshd");
    server = await startSshd({ extraConfig: ["MaxStartups 200:30:400", "MaxSessions 200"], logLevel: "INFO" });
    const st = await setup(server);
    log(`sshd on 127.0.0.1:${server.port}; local ${st.localDir}, remote ${st.remoteDir}`);

    const section = (name: string) => log(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${name}`);
    if (want("ceiling")) {
      section("crypto ceiling");
      results.ceiling = await measureCeiling(CONFIG.ceilingMsEach, log);
    }
    if (want("throughput")) {
      section("throughput");
      results.throughput = await throughputSection(st, results.ceiling);
    }
    if (want("embedded")) {
      section("OpenSSH sftp: embedded server vs sshd (aes128-gcm, interleaved)");
      results.embedded = await embeddedSection({
        sshd: { server: st.s, pid: server.pid, remoteDir: st.remoteDir }, localDir: st.localDir, src: st.src.local,
        bytes: CONFIG.transferBytes, rounds: quick ? 1 : 2, timeoutMs: transferTimeout(CONFIG.transferBytes), log,
        profileDir: wantProfile ? path.join(RESULTS_DIR, "profiles") : undefined,
        directions: listArg("embedded-directions") as Direction[] | undefined,
      });
    }
    let serverVersion: string | undefined;
    if (want("connect")) {
      section("connect → SFTP ready");
      const c = await connectSection(st);
      results.connect = c.rows;
    }
    {
      // sshd -V prints its version on stderr.
      const v = spawnSync("/usr/sbin/sshd", ["-V"], { encoding: "utf8" });
      serverVersion = `${v.stderr ?? ""}${v.stdout ?? ""}`.trim() || undefined;
    }
    if (want("files")) {
      section("small files");
      results.smallFiles = await smallFilesSection(st, {
        sshdPid: server.pid, files: CONFIG.smallFiles, bytesEach: CONFIG.smallFileBytes, concurrency: CONFIG.smallFileConcurrency,
        rounds: CONFIG.smallFileRounds, log, opensshBaseline: () => opensshHandshake(st, undefined, 1),
        handshakeMs: results.connect.find((r) => r.client === "openssh")?.medianMs,
      });
    }
    if (want("rss")) {
      section(`RSS while downloading ${CONFIG.rssBytes / MiB} MiB`);
      results.rss = await rssSection(st);
    }
    if (want("sessions")) {
      section(`${CONFIG.sessions} concurrent sessions`);
      results.sessions = await sessionsSection(st);
    }
    if (rttArg !== undefined) {
      section(`long link: ${rttArg} ms round trip, then 0 ms`);
      rttRows = await rttSection(st, [rttArg, 0], {
        largeBytes: CONFIG.transferBytes, files: quick ? 50 : 200, fileBytes: MiB, timeoutMs: transferTimeout(CONFIG.transferBytes) * 4,
        cases: listArg("rtt-cases") as RttConfig["cases"], clients: listArg("rtt-clients") as RttConfig["clients"], rounds: rttRounds,
      }, log);
    }
    if (wantProfile) {
      section("CPU profiles (ours auto, chacha20 and aes128-gcm)");
      results.profiles = await profileSection(st, runStamp);
    }
    results.software = software(serverVersion);
  } catch (e) {
    results.notes.push(`The run stopped early: ${errorText(e)}`);
    log(`run stopped early: ${errorText(e)}`);
    process.exitCode = 1;
  } finally {
    if (server) {
      await server.stop().catch((e: unknown) => log(`sshd stop: ${errorText(e)}`));
    }
    for (const d of tempDirs) await fs.rm(d, { recursive: true, force: true });
    tempDirs.clear();
  }

  if (rttRows) {
    await fs.mkdir(RESULTS_DIR, { recursive: true });
    const md = `# Long link, ${runStamp}\n\n${CONFIG.transferBytes / MiB} MiB file; ${quick ? 50 : 200} files of 1 MiB: ssh2 4 at a time; ours uploadDir/downloadDir with their defaults (\`streams: 1\`: one session, 8 files at a time; default: up to 4 sessions × 8); OpenSSH \`sftp\` moves a directory one file at a time. Load average at start ${loadavgStart.map((x) => x.toFixed(1)).join(" ")}.\n\n${renderRtt(rttRows)}`;
    await fs.writeFile(path.join(RESULTS_DIR, `${runStamp}-rtt.json`), JSON.stringify({ stamp: runStamp, quick, config: CONFIG, rows: rttRows }, null, 2) + "\n");
    await fs.writeFile(path.join(RESULTS_DIR, `${runStamp}-rtt.md`), md);
    log(`wrote bench/results/${runStamp}-rtt.{json,md}`);
    process.stdout.write("\n" + md);
    return;
  }
  results.ratios = computeRatios(results.throughput, results.ceiling);
  results.targets = computeTargets(results);
  results.machine.loadavgEnd = os.loadavg();
  results.durationSeconds = (performance.now() - t0) / 1000;
  if (!results.software.openssh) results.software = software(undefined);

  await fs.mkdir(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify(results, null, 2) + "\n";
  const md = renderMarkdown(results);
  const svg = renderChart(results);
  // A partial run (--only) never becomes "latest".
  for (const base of only ? [`${runStamp}-partial`] : [runStamp, "latest"]) {
    await fs.writeFile(path.join(RESULTS_DIR, `${base}.json`), json);
    await fs.writeFile(path.join(RESULTS_DIR, `${base}.md`), md);
    await fs.writeFile(path.join(RESULTS_DIR, `${base}.svg`), svg);
  }
  log(`wrote bench/results/${only ? `${runStamp}-partial` : `${runStamp}`}.{json,md,svg}${only ? "" : " and latest.{json,md,svg}"} (${results.durationSeconds.toFixed(0)} s)`);
  process.stdout.write("\n" + md);
}

await main();
