/**
 * OpenSSH's `sftp` against the embedded server (src/sftp/server/, in its own process:
 * embedded-server.ts) and against the bench's sshd: same client, same cipher (aes128-gcm), same
 * file, same file system for both servers' files, runs interleaved sshd, embedded, sshd, … so
 * a machine that gets busier or quieter during the run moves both alike. Timed as the
 * throughput section times OpenSSH (file creation to exit); each server's CPU (its process
 * tree) is recorded; every transfer's size is checked.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  CIPHER_CASES, DIRECTIONS, TreeCpuMeter, median, mbps, verifyFile, waitNoChildren,
  type BenchServer, type Direction,
} from "./common.js";
import { batch, runSftp } from "./peers/openssh.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const AES128_GCM = CIPHER_CASES.find((c) => c.id === "aes128-gcm")!;

export type EmbeddedServerId = "sshd" | "embedded";

export interface EmbeddedRow {
  direction: Direction;
  server: EmbeddedServerId;
  /** MB/s of each run, in run order. */
  runs: number[];
  /** Server CPU % of wall time, per run. */
  serverCpu: number[];
  error?: string;
}

export interface EmbeddedOptions {
  sshd: { server: BenchServer; pid: number; remoteDir: string };
  localDir: string;
  /** The source file (local), `bytes` long. */
  src: string;
  bytes: number;
  /** Runs per server and direction (sshd gets one more, so it brackets the embedded runs). */
  rounds: number;
  timeoutMs: number;
  log: (line: string) => void;
  /** With `--profile`: the server process writes a V8 CPU profile of its whole life here. */
  profileDir?: string;
  /** `--embedded-directions=upload`: only these directions (default both). */
  directions?: readonly Direction[];
}

interface Embedded {
  server: BenchServer;
  pid: number;
  root: string;
  child: ChildProcess;
}

async function startEmbedded(o: EmbeddedOptions): Promise<Embedded> {
  const root = path.join(path.dirname(o.sshd.remoteDir), `${path.basename(o.sshd.remoteDir)}-embedded`);
  await fs.mkdir(root, { recursive: true });
  const authorizedKeys = await fs.readFile(`${o.sshd.server.keyPath}.pub`, "utf8");
  // One file per thread (tsx adds a loader thread): the server's is the largest in the directory.
  const profile = o.profileDir ? ["--cpu-prof", "--cpu-prof-dir", path.join(o.profileDir, `embedded-server-${Date.now()}`)] : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", path.join(BENCH_DIR, "embedded-server.ts"), JSON.stringify({ root, authorizedKeys })], {
    cwd: path.dirname(BENCH_DIR),
    stdio: ["pipe", "pipe", "inherit"],
  });
  const ready = await new Promise<{ port: number; hostKeyLine: string }>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("READY "));
      if (line) resolve(JSON.parse(line.slice("READY ".length)));
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`the embedded server exited ${code} before it was ready`)));
  });
  const knownHostsPath = path.join(o.localDir, "embedded_known_hosts");
  await fs.writeFile(knownHostsPath, `[127.0.0.1]:${ready.port} ${ready.hostKeyLine}\n`);
  return {
    server: { ...o.sshd.server, port: ready.port, knownHostsPath, hostKeyBlobs: [ready.hostKeyLine.split(" ")[1]!] },
    pid: child.pid!,
    root,
    child,
  };
}

/** One `get` or `put` of the source file; MB/s and the server's CPU %. */
async function transfer(
  o: EmbeddedOptions, s: BenchServer, serverPid: number, remoteDir: string, remoteName: (file: string) => string, direction: Direction, tag: string,
): Promise<{ mbps: number; cpu: number }> {
  const local = direction === "download" ? path.join(o.localDir, `emb-down-${tag}.bin`) : o.src;
  const remoteFile = path.join(remoteDir, direction === "download" ? "src.bin" : `emb-up-${tag}.bin`);
  const line = direction === "download" ? batch.get(remoteName("src.bin"), local) : batch.put(local, remoteName(path.basename(remoteFile)));
  const target = direction === "download" ? local : remoteFile;
  // sshd's connection process of the previous run may still be exiting (the embedded server has none).
  await waitNoChildren(serverPid);
  const meter = await TreeCpuMeter.start(serverPid);
  try {
    const run = await runSftp(s, o.localDir, [line], o.timeoutMs, AES128_GCM, { dir: path.dirname(target), name: path.basename(target) });
    await waitNoChildren(serverPid, 1000);
    const cpu = await meter.stop();
    const seconds = run.fromCreateSeconds ?? run.seconds;
    await verifyFile(target, o.bytes);
    return { mbps: mbps(o.bytes, seconds), cpu: (100 * cpu) / seconds };
  } finally {
    await meter.stop().catch(() => 0);
    await fs.rm(direction === "download" ? local : remoteFile, { force: true });
  }
}

export async function embeddedSection(o: EmbeddedOptions): Promise<EmbeddedRow[]> {
  const rows: EmbeddedRow[] = [];
  const directions = o.directions ?? DIRECTIONS;
  for (const direction of directions) for (const server of ["sshd", "embedded"] as const) rows.push({ direction, server, runs: [], serverCpu: [] });
  let e: Embedded | undefined;
  try {
    e = await startEmbedded(o);
    await fs.copyFile(o.src, path.join(e.root, "src.bin"));
    const sshdRemote = path.join(o.sshd.remoteDir, "src.bin");
    if (!(await fs.stat(sshdRemote).catch(() => undefined))) await fs.copyFile(o.src, sshdRemote);
    for (const direction of directions) {
      for (let i = 0; i <= o.rounds; i++) {
        for (const server of ["sshd", "embedded"] as const) {
          if (server === "embedded" && i === o.rounds) continue; // sshd, embedded, …, sshd
          const row = rows.find((r) => r.direction === direction && r.server === server)!;
          if (row.error) continue;
          try {
            const r = server === "sshd"
              ? await transfer(o, o.sshd.server, o.sshd.pid, o.sshd.remoteDir, (f) => path.join(o.sshd.remoteDir, f), direction, `sshd-${i}`)
              : await transfer(o, e.server, e.pid, e.root, (f) => `/${f}`, direction, `emb-${i}`);
            row.runs.push(r.mbps);
            row.serverCpu.push(r.cpu);
            o.log(`  aes128-gcm ${direction.padEnd(8)} OpenSSH sftp → ${server.padEnd(8)} ${r.mbps.toFixed(1).padStart(7)} MB/s (server cpu ${r.cpu.toFixed(0)}%)`);
          } catch (err) {
            row.error = err instanceof Error ? err.message : String(err);
            o.log(`  aes128-gcm ${direction} → ${server}: failed: ${row.error}`);
          }
        }
      }
    }
  } catch (err) {
    for (const r of rows) r.error ??= err instanceof Error ? err.message : String(err);
  } finally {
    if (e) {
      e.child.stdin!.end();
      await new Promise((r) => (e!.child.exitCode !== null ? r(undefined) : e!.child.once("exit", r)));
      await fs.rm(e.root, { recursive: true, force: true });
    }
  }
  return rows;
}

/** Median MB/s against the embedded server over the median against sshd, per direction. */
export function embeddedRatio(rows: readonly EmbeddedRow[] | undefined, direction: Direction): number | undefined {
  const m = (server: EmbeddedServerId) => {
    const r = rows?.find((x) => x.direction === direction && x.server === server);
    return r && !r.error && r.runs.length ? median(r.runs) : undefined;
  };
  const a = m("embedded");
  const b = m("sshd");
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

export function renderEmbedded(rows: readonly EmbeddedRow[]): string[] {
  const out = [
    "",
    "### OpenSSH `sftp` against the embedded server and against sshd, aes128-gcm",
    "",
    "Runs interleaved (sshd, embedded, sshd, …); MB/s per run, median, the server's CPU % of wall time (median), and MB per server CPU second (median; what a busy machine distorts least).",
    "",
    "| direction | server | runs MB/s | median MB/s | server CPU | MB per server CPU-s | embedded / sshd |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const runs = r.error ? `failed: ${r.error.replace(/\|/g, "/").slice(0, 70)}` : r.runs.map((x) => x.toFixed(0)).join(", ");
    const med = r.runs.length ? median(r.runs).toFixed(0) : "–";
    const cpu = r.serverCpu.length ? `${median(r.serverCpu).toFixed(0)}%` : "–";
    const perCpu = r.runs.length ? median(r.runs.map((x, i) => (100 * x) / (r.serverCpu[i] || Infinity))).toFixed(0) : "–";
    const ratio = r.server === "embedded" ? embeddedRatio(rows, r.direction) : undefined;
    out.push(`| ${r.direction} | ${r.server} | ${runs} | ${med} | ${cpu} | ${perCpu} | ${ratio === undefined ? "" : `${ratio.toFixed(2)}×`} |`);
  }
  return out;
}
