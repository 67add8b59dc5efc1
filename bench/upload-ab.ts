/**
 * Large-file upload A/B against one private sshd: OpenSSH's `sftp` and any number of client
 * variants (a checkout's src, optionally with another SFTP write size or requests in flight),
 * interleaved round by round, each run in a fresh process. Per run: MB/s, the client's CPU, and
 * the CPU of each sshd process of the connection (the session process, which decrypts, and the
 * sftp-server child, which writes the file) sampled from /proc.
 *
 *   npx tsx bench/upload-ab.ts --rounds=5 --mib=256 --variants=openssh,ours@/tmp/base,ours@.,ours@.:ws=32768:mif=64 [--probe]
 *
 * A variant is `openssh` or `ours@CHECKOUT[:ws=BYTES][:mif=N][:st=N][:cr=pure][:semi=MB][:old=MB]` (ws: the SFTP WRITE
 * size, mif: requests in flight, st: upload's `streams`, cr: the crypto backend (default auto), semi: V8's --max-semi-space-size for that client, old: its --initial-old-space-size). Prints one line per run and a markdown summary (medians; each run listed)
 * at the end. Also per run: how idle the whole machine was (/proc/stat), as other work on a
 * shared machine decides what the three processes get. Diagnostics, each optional: `--probe`
 * (our channel's state every millisecond), `--cpu-prof=DIR [--heap-sampling]` (V8 profiles of
 * our upload alone), `--child-flags=--trace-gc`. System calls of every process were traced by
 * running `perf record -a -e 'syscalls:sys_*_read,...'` around a one-round run by hand
 * (bench/results/2026-12-06-upload-gap.md).
 */
import { execFileSync, spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_USER, startSshd, type SshdServer } from "../conformance/sshd.js";
import { CIPHER_CASES, MiB, median, processTree, type BenchServer } from "./common.js";
import { batch, runSftp } from "./peers/openssh.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(arg("rounds") ?? 3);
const bytes = Number(arg("mib") ?? 256) * MiB;
const cipher = arg("cipher") ?? "aes128-gcm@openssh.com";
const probe = process.argv.includes("--probe");
const heapSampling = process.argv.includes("--heap-sampling");
const cipherCase = CIPHER_CASES.find((c) => c.cipher === cipher);
if (!cipherCase) throw new Error(`--cipher: one of ${CIPHER_CASES.map((c) => c.cipher).join(", ")}`);
const variants = (arg("variants") ?? "openssh,ours@.").split(",");
const log = (s: string) => process.stderr.write(s + "\n");

interface Run {
  variant: string;
  mbps: number;
  clientCpu: number;
  clientSys: number;
  /** % of one core per sshd process role. */
  session: number;
  sftp: number;
  other: number;
  samples?: Record<string, number>;
  /** Our client's CPU seconds on its main thread and on all its other threads (libuv pool, V8's GC and compiler). */
  byThread?: Record<string, number>;
  /** % of the machine's CPU time idle during the run (all cores, /proc/stat). */
  idle: number;
}

async function systemCpu(): Promise<{ idle: number; total: number }> {
  const f = (await fs.readFile("/proc/stat", "utf8")).split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
}

/** CPU seconds (user + system) and the role of each process under sshd's listener, now. */
async function sshdProcs(root: number): Promise<Map<number, { cpu: number; role: string }>> {
  const out = new Map<number, { cpu: number; role: string }>();
  for (const pid of (await processTree(root)).slice(1)) {
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    // An exiting process has no command line any more: its role is the one seen before.
    const role = cmd === "" ? "" : cmd.includes("[priv]") ? "other" : cmd.includes("@notty") ? "session" : cmd.includes("sftp") ? "sftp" : "other";
    out.set(pid, { cpu: (f[11]! + f[12]!) / 100, role });
  }
  return out;
}

/** Samples the sshd tree every 20 ms until stopped; CPU seconds per role since start. */
function meter(root: number) {
  const first = new Map<number, number>();
  const last = new Map<number, { cpu: number; role: string }>();
  let running = true;
  const started = sshdProcs(root).then((m) => m.forEach((v, pid) => first.set(pid, v.cpu)));
  const loop = (async () => {
    await started;
    while (running) {
      for (const [pid, v] of await sshdProcs(root)) last.set(pid, { cpu: v.cpu, role: v.role || last.get(pid)?.role || "other" });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    running = false;
    await loop;
    for (const [pid, v] of await sshdProcs(root)) last.set(pid, { cpu: v.cpu, role: v.role || last.get(pid)?.role || "other" });
    const byRole: Record<string, number> = { session: 0, sftp: 0, other: 0 };
    for (const [pid, v] of last) byRole[v.role] = (byRole[v.role] ?? 0) + v.cpu - (first.get(pid) ?? 0);
    return byRole;
  };
}

/** `--cpu-prof=DIR`: V8 CPU profiles of our clients' uploads (the upload alone) go to DIR. */
const cpuProfDir = arg("cpu-prof");
/** `--child-flags=--trace-gc,...`: node flags for our client processes; their output is kept in `${os.tmpdir()}/upload-ab-child-<pid>.log`. */
const childFlags = arg("child-flags")?.split(",").filter(Boolean) ?? [];

function child(job: object, flags: string[] = []): Promise<{ seconds: number; cpuSeconds: number; sysSeconds: number; byThread?: Record<string, number>; samples?: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...childFlags, ...flags, "--import", "tsx", path.join(BENCH_DIR, "upload-ab-child.ts"), JSON.stringify(job)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d));
    p.stderr.on("data", (d: Buffer) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => {
      if (childFlags.length) void fs.writeFile(path.join(os.tmpdir(), `upload-ab-child-${p.pid}.log`), out);
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (line) resolve(JSON.parse(line.slice(7)));
      else reject(new Error(`child exited ${code}: ${err.slice(-500)}`));
    });
  });
}

async function waitQuiet(root: number): Promise<void> {
  for (let i = 0; i < 100 && (await processTree(root)).length > 1; i++) await new Promise((r) => setTimeout(r, 50));
}

async function runOne(sshd: SshdServer, s: BenchServer & { keyPath: string }, variant: string, local: string, remoteDir: string): Promise<Run> {
  const remote = path.join(remoteDir, `up-${Date.now()}.bin`);
  await waitQuiet(sshd.pid);
  const stop = meter(sshd.pid);
  const sys0 = await systemCpu();
  let seconds: number;
  let clientCpu: number;
  let clientSys: number;
  let samples: Record<string, number> | undefined;
  let byThread: Record<string, number> | undefined;
  if (variant === "openssh") {
    const c0 = childCpu();
    const r = await runSftp(s, path.dirname(local), [batch.put(local, remote)], 600_000, cipherCase, { dir: remoteDir, name: path.basename(remote) });
    seconds = r.fromCreateSeconds ?? r.seconds;
    const c1 = childCpu(); // sftp + ssh, handshake included (a few ms)
    clientCpu = c1.total - c0.total;
    clientSys = c1.sys - c0.sys;
  } else {
    const [, spec] = variant.split("@");
    const [checkout, ...opts] = spec!.split(":");
    const o = Object.fromEntries(opts.map((x) => x.split("=")));
    const r = await child({
      checkout: path.resolve(checkout!), server: s, cipher, local, remote, probe, heapSampling,
      profilePath: cpuProfDir ? path.join(cpuProfDir, `${variant.replace(/[^a-z0-9=]+/gi, "_")}-${Date.now()}.cpuprofile`) : undefined,
      writeSize: o.ws ? Number(o.ws) : undefined, maxInFlight: o.mif ? Number(o.mif) : undefined, streams: o.st ? Number(o.st) : undefined, crypto: o.cr as "auto" | "pure" | "native" | undefined,
    }, [...(o.semi ? [`--max-semi-space-size=${Number(o.semi)}`] : []), ...(o.old ? [`--initial-old-space-size=${Number(o.old)}`] : [])]);
    seconds = r.seconds;
    clientCpu = r.cpuSeconds;
    clientSys = r.sysSeconds;
    samples = r.samples;
    byThread = r.byThread;
  }
  await waitQuiet(sshd.pid);
  const cpu = await stop();
  const sys1 = await systemCpu();
  const idle = (100 * (sys1.idle - sys0.idle)) / (sys1.total - sys0.total);
  const st = await fs.stat(remote);
  if (st.size !== bytes) throw new Error(`${variant}: ${st.size} bytes arrived, not ${bytes}`);
  await fs.rm(remote, { force: true });
  const pct = (x: number) => (100 * x) / seconds;
  return { variant, mbps: bytes / seconds / 1e6, clientCpu: pct(clientCpu), clientSys: pct(clientSys), session: pct(cpu.session!), sftp: pct(cpu.sftp!), other: pct(cpu.other!), idle, samples, byThread };
}

/** CPU seconds of the children this process has waited for (an `sftp` run and its `ssh`), and their system part. */
function childCpu(): { total: number; sys: number } {
  const t = execFileSync("cat", [`/proc/${process.pid}/stat`], { encoding: "utf8" });
  const f = t.slice(t.lastIndexOf(")") + 2).split(" ").map(Number);
  return { total: (f[13]! + f[14]!) / 100, sys: f[14]! / 100 };
}

const sshd = await startSshd({ extraConfig: ["MaxStartups 200:30:400", "MaxSessions 200"], logLevel: "INFO" });
const localDir = await fs.mkdtemp(path.join(os.tmpdir(), "puresftp-upab-"));
const home = execFileSync("getent", ["passwd", TEST_USER], { encoding: "utf8" }).trim().split(":")[5]!;
const remoteDir = path.join(home, `puresftp-upab-${process.pid}`);
try {
  const { uid, gid } = await fs.stat(home);
  await fs.mkdir(remoteDir);
  await fs.chown(remoteDir, uid, gid);
  const local = path.join(localDir, "src.bin");
  const block = Buffer.allocUnsafe(4 * MiB);
  const h = await fs.open(local, "w");
  for (let o = 0; o < bytes; o += block.length) await h.write(randomFillSync(block), 0, Math.min(block.length, bytes - o), o);
  await h.close();
  const s = {
    host: sshd.host, port: sshd.port, username: sshd.username, keyPath: sshd.clientKeyPaths.ed25519,
    keyText: sshd.clientKeys.ed25519, knownHostsPath: sshd.knownHostsPath, hostKeyBlobs: [],
  };
  const load0 = os.loadavg();
  const runs: Run[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const r = await runOne(sshd, s, v, local, remoteDir);
      runs.push(r);
      log(`round ${round + 1} ${v.padEnd(40)} ${r.mbps.toFixed(1).padStart(6)} MB/s  client ${r.clientCpu.toFixed(0)}% (sys ${r.clientSys.toFixed(0)}%, ${(r.mbps / (r.clientCpu / 100)).toFixed(0)} MB/CPU-s)  sshd session ${r.session.toFixed(0)}% sftp ${r.sftp.toFixed(0)}% other ${r.other.toFixed(0)}% machine idle ${r.idle.toFixed(0)}%${r.byThread ? `  threads ${JSON.stringify(r.byThread)}` : ""}${r.samples ? `  probe ${JSON.stringify(r.samples)}` : ""}  load ${os.loadavg()[0]!.toFixed(2)}`);
    }
  }
  const load1 = os.loadavg();
  const base = median(runs.filter((r) => r.variant === "openssh").map((r) => r.mbps));
  const lines = [
    `Upload A/B, ${bytes / MiB} MiB, ${cipher}, ${rounds} rounds interleaved; load average ${load0.map((x) => x.toFixed(2)).join("/")} at start, ${load1.map((x) => x.toFixed(2)).join("/")} at end.`,
    "",
    "| variant | median MB/s | / OpenSSH | runs MB/s | client CPU | MB per client CPU-s | sshd session | sftp-server | MB per sshd CPU-s | machine idle |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const v of variants) {
    const rs = runs.filter((r) => r.variant === v);
    const m = median(rs.map((r) => r.mbps));
    lines.push(`| ${v} | ${m.toFixed(1)} | ${(m / base).toFixed(2)}× | ${rs.map((r) => r.mbps.toFixed(0)).join(", ")} | ${median(rs.map((r) => r.clientCpu)).toFixed(0)}% | ${median(rs.map((r) => r.mbps / (r.clientCpu / 100))).toFixed(0)} | ${median(rs.map((r) => r.session)).toFixed(0)}% | ${median(rs.map((r) => r.sftp)).toFixed(0)}% | ${median(rs.map((r) => r.mbps / ((r.session + r.sftp + r.other) / 100))).toFixed(0)} | ${median(rs.map((r) => r.idle)).toFixed(0)}% |`);
  }
  process.stdout.write(lines.join("\n") + "\n");
} finally {
  await fs.rm(localDir, { recursive: true, force: true });
  await fs.rm(remoteDir, { recursive: true, force: true });
  await sshd.stop();
}
