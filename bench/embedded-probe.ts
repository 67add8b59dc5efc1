/**
 * A/B of the embedded server's download to OpenSSH's `sftp` (aes128-gcm) between checkouts, and
 * against sshd, with a look inside: each checkout's server runs in its own process
 * (embedded-probe-child.ts) and reports its main thread's and other threads' CPU and a 1 ms
 * probe of its channel (see there); every run also records the client's CPU (sftp and its ssh)
 * and how idle the whole machine was. Rounds interleave the variants.
 *
 *   npx tsx bench/embedded-probe.ts --rounds=4 --mib=256 --variants=sshd,/tmp/base,.,.:maxConcurrentRequests=64 [--profile=DIR]
 *
 * A variant is `sshd` (conformance/sshd.ts, internal-sftp; needs root) or a checkout path,
 * optionally with `:name=value` SFTP server limits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { TEST_USER, startSshd, type SshdServer } from "../conformance/sshd.js";
import { CIPHER_CASES, TreeCpuMeter, childrenCpuSeconds, median, mbps, waitNoChildren, type BenchServer } from "./common.js";
import { batch, runSftp } from "./peers/openssh.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, d: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
const rounds = Number(arg("rounds", "4"));
const mib = Number(arg("mib", "256"));
const variants = arg("variants", ".").split(",");
/** `--profile=DIR`: each checkout's server writes a V8 CPU profile of each download to DIR/<variant index>/. */
const profileDir = arg("profile", "");
const AES = CIPHER_CASES.find((c) => c.id === "aes128-gcm")!;

interface Target {
  server: BenchServer;
  remote: string;
  /** A checkout's server process, or sshd. */
  proc?: ChildProcess;
  lines?: AsyncIterator<string>;
  sshdPid?: number;
}

async function nextLine(lines: AsyncIterator<string>, prefix: string): Promise<string> {
  for (;;) {
    const r = await lines.next();
    if (r.done) throw new Error("child exited");
    if (r.value.startsWith(prefix)) return r.value.slice(prefix.length);
  }
}

async function systemCpu(): Promise<{ idle: number; total: number }> {
  const f = (await fs.readFile("/proc/stat", "utf8")).split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
}

const work = await fs.mkdtemp(path.join(os.tmpdir(), "embedded-probe-"));
const keyPath = path.join(work, "key");
await new Promise((r, j) => spawn("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyPath]).on("exit", (c) => (c === 0 ? r(0) : j(new Error("keygen")))));
const root = path.join(work, "root");
await fs.mkdir(root);
const bytes = mib * 1024 * 1024;
const src = path.join(root, "src.bin");
{
  const h = await fs.open(src, "w");
  const block = new Uint8Array(4 * 1024 * 1024);
  for (let done = 0; done < bytes; done += block.length) {
    crypto.getRandomValues(block.subarray(0, 65536));
    for (let i = 65536; i < block.length; i += 65536) block.copyWithin(i, 0, 65536);
    await h.write(block);
  }
  await h.close();
}
const targets: Target[] = [];
let sshd: SshdServer | undefined;
let sshdRemoteDir: string | undefined;
try {
  for (const [i, v] of variants.entries()) {
    if (v === "sshd") {
      sshd ??= await startSshd({});
      const home = (await fs.readFile("/etc/passwd", "utf8")).split("\n").find((l) => l.startsWith(`${TEST_USER}:`))!.split(":")[5]!;
      sshdRemoteDir = path.join(home, `embedded-probe-${process.pid}`);
      await fs.mkdir(sshdRemoteDir, { recursive: true });
      await fs.copyFile(src, path.join(sshdRemoteDir, "src.bin"));
      const { uid, gid } = await fs.stat(home);
      await fs.chown(sshdRemoteDir, uid, gid);
      await fs.chown(path.join(sshdRemoteDir, "src.bin"), uid, gid);
      targets.push({
        server: { host: sshd.host, port: sshd.port, username: sshd.username, keyPath: sshd.clientKeyPaths.ed25519, keyText: "", knownHostsPath: sshd.knownHostsPath, hostKeyBlobs: [] },
        remote: path.join(sshdRemoteDir, "src.bin"),
        sshdPid: sshd.pid,
      });
      continue;
    }
    const [checkout, ...opts] = v.split(":");
    const sftpLimits = Object.fromEntries(opts.map((o) => o.split("=")).map(([k, x]) => [k, Number(x)]));
    const vProfile = profileDir ? path.resolve(profileDir, String(i)) : undefined;
    if (vProfile) await fs.mkdir(vProfile, { recursive: true });
    const proc = spawn(process.execPath, ["--import", "tsx", path.join(BENCH_DIR, "embedded-probe-child.ts"), JSON.stringify({
      checkout: path.resolve(checkout!), root, authorizedKeys: await fs.readFile(`${keyPath}.pub`, "utf8"), sftpLimits, profileDir: vProfile,
    })], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
    const ready = JSON.parse(await nextLine(lines, "READY ")) as { port: number; hostKeyLine: string };
    const knownHostsPath = path.join(work, `kh-${i}`);
    await fs.writeFile(knownHostsPath, `[127.0.0.1]:${ready.port} ${ready.hostKeyLine}\n`);
    targets.push({
      proc, lines, remote: "/src.bin",
      server: { host: "127.0.0.1", port: ready.port, username: os.userInfo().username, keyPath, keyText: "", knownHostsPath, hostKeyBlobs: [] },
    });
  }
  console.log(`${mib} MiB, ${rounds} rounds, load ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  const results = variants.map(() => [] as { mbps: number; serverPerCpu: number; server: number; client: number; idle: number }[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, t] of targets.entries()) {
      const local = path.join(work, "down.bin");
      let meter: TreeCpuMeter | undefined;
      if (t.sshdPid) {
        await waitNoChildren(t.sshdPid);
        meter = await TreeCpuMeter.start(t.sshdPid);
      } else t.proc!.stdin!.write("start\n");
      const c0 = (await childrenCpuSeconds()) ?? 0;
      const m0 = await systemCpu();
      const run = await runSftp(t.server, work, [batch.get(t.remote, local)], 120_000, AES, { dir: work, name: "down.bin" });
      const m1 = await systemCpu();
      const client = ((await childrenCpuSeconds()) ?? 0) - c0;
      let server: number;
      let detail = "";
      if (meter) {
        await waitNoChildren(t.sshdPid!, 1000);
        server = await meter.stop();
      } else {
        t.proc!.stdin!.write("stop\n");
        const st = JSON.parse(await nextLine(t.lines!, "STATS ")) as { main: number; other: number; samples: Record<string, number> };
        server = st.main + st.other;
        const n = Object.values(st.samples).reduce((a, b) => a + b, 0) || 1;
        const pct = Object.fromEntries(Object.entries(st.samples).map(([k, x]) => [k, Math.round((100 * x) / n)]));
        detail = `main ${st.main.toFixed(2)} other ${st.other.toFixed(2)} CPU-s  probe% ${JSON.stringify(pct)}`;
      }
      if ((await fs.stat(local)).size !== bytes) throw new Error("short download");
      await fs.rm(local);
      const s = run.fromCreateSeconds ?? run.seconds;
      const mb = mbps(bytes, s);
      const idle = (100 * (m1.idle - m0.idle)) / (m1.total - m0.total);
      results[i]!.push({ mbps: mb, serverPerCpu: bytes / 1e6 / server, server: (100 * server) / s, client: (100 * client) / run.seconds, idle });
      console.log(`round ${r + 1} ${variants[i]!.padEnd(30)} ${mb.toFixed(1).padStart(6)} MB/s  server ${((100 * server) / s).toFixed(0)}% (${(bytes / 1e6 / server).toFixed(0)} MB/CPU-s)  client ${client.toFixed(2)} CPU-s  machine idle ${idle.toFixed(0)}%  ${detail}  load ${os.loadavg()[0]!.toFixed(2)}`);
    }
  }
  for (const [i, v] of variants.entries()) {
    const x = results[i]!;
    const med = (f: (y: (typeof x)[number]) => number) => median(x.map(f));
    console.log(`median ${v.padEnd(30)} ${med((y) => y.mbps).toFixed(1)} MB/s  server ${med((y) => y.server).toFixed(0)}%, ${med((y) => y.serverPerCpu).toFixed(0)} MB/CPU-s  idle ${med((y) => y.idle).toFixed(0)}%`);
  }
} finally {
  for (const t of targets) t.proc?.stdin!.end();
  await Promise.all(targets.map((t) => t.proc && new Promise((r) => (t.proc!.exitCode !== null ? r(0) : t.proc!.once("exit", r)))));
  await sshd?.stop();
  if (sshdRemoteDir) await fs.rm(sshdRemoteDir, { recursive: true, force: true });
  await fs.rm(work, { recursive: true, force: true });
}
