/**
 * `npm run bench -- --rtt 100`: transfers over a long link, where one SSH channel's window, not
 * the CPU, is the limit (sshd gives a session channel 2 MiB, so one channel carries at most
 * 2 MiB per round trip). A delaying TCP proxy (delay-proxy.ts, its own process) sits between
 * every client and the bench's sshd. Rows: OpenSSH `sftp`, ssh2 (fastGet/fastPut), ours with one
 * stream, ours with default options; cases: one large file each way and many 1 MiB files each
 * way; at the asked round trip, then again with no proxy (0 ms).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { connect } from "../src/connect.js";
import type { Setup } from "./bench.js";
import { MiB, type BenchServer, errorText, mbps, withTimeout } from "./common.js";
import { batch, runSftp } from "./peers/openssh.js";
import { closeQuietly, oursOptions } from "./peers/ours.js";
import { call, ssh2Open } from "./peers/ssh2.js";

export type RttClient = "openssh" | "ssh2" | "ours-1-stream" | "ours-default" | "ours-2-connections";
/** ours-2-connections: default options with `connections: 2`, for the large file only (1 MiB files take one stream each). */
const RTT_CLIENTS: readonly RttClient[] = ["openssh", "ssh2", "ours-1-stream", "ours-default", "ours-2-connections"];
export type RttCase = "large-up" | "large-down" | "files-up" | "files-down";
const CASES: readonly RttCase[] = ["large-up", "large-down", "files-up", "files-down"];

export interface RttRow {
  rttMs: number;
  case: RttCase;
  client: RttClient;
  bytes: number;
  seconds?: number;
  mbps?: number;
  error?: string;
}

export interface RttConfig {
  largeBytes: number;
  files: number;
  fileBytes: number;
  timeoutMs: number;
  /** Only these cases and clients (default: all). */
  cases?: RttCase[];
  clients?: RttClient[];
  /** Each case runs its clients this many times, interleaved (A/B/A/B…), so a shared machine's load spreads over all (default 1). */
  rounds?: number;
}

/** Starts the delay proxy in a child process; resolves with its port and a stop function. */
async function startDelay(target: number, rttMs: number): Promise<{ port: number; stop: () => void }> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "delay-proxy.ts"), String(target), String(rttMs / 2)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await withTimeout(new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`delay proxy exited ${code}`)));
  }), 30_000, "delay proxy start");
  return { port, stop: () => child.kill("SIGKILL") };
}

/** The bench server as seen through the proxy: another port, so known_hosts names it too. */
async function throughProxy(s: BenchServer, port: number, dir: string): Promise<BenchServer> {
  const lines = (await fs.readFile(s.knownHostsPath, "utf8")).split("\n").filter(Boolean);
  const knownHostsPath = path.join(dir, `known_hosts-${port}`);
  await fs.writeFile(knownHostsPath, [...lines, ...lines.map((l) => l.replace(`[${s.host}]:${s.port}`, `[${s.host}]:${port}`))].join("\n") + "\n");
  return { ...s, port, knownHostsPath };
}

/** Where a case writes (sshd runs on this machine, so remote paths are local paths too). */
function targetOf(c: RttCase, local: string, remote: string, localDir: string, remoteDir: string): string {
  return { "large-up": `${remote}.up`, "large-down": `${local}.down`, "files-up": `${remoteDir}-up`, "files-down": `${localDir}-down` }[c];
}

/** Bytes in a file, or in the files of a directory tree (what a case moved). */
async function bytesAt(p: string): Promise<number> {
  const st = await fs.stat(p);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of await fs.readdir(p, { recursive: true, withFileTypes: true })) if (e.isFile()) n += (await fs.stat(path.join(e.parentPath, e.name))).size;
  return n;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** One transfer case by one client; returns the seconds it took (handshake excluded where the client allows). */
async function runCase(s: BenchServer, client: RttClient, c: RttCase, p: { local: string; remote: string; localDir: string; remoteDir: string; names: string[]; work: string }, timeoutMs: number): Promise<number> {
  const large = c.startsWith("large");
  const up = c.endsWith("up");
  const target = targetOf(c, p.local, p.remote, p.localDir, p.remoteDir);
  if (client === "openssh") {
    const line = large ? (up ? batch.put(p.local, target) : batch.get(p.remote, target)) : up ? batch.putDir(p.localDir, target) : `get -r "${p.remoteDir}" "${target}"`;
    // The process's own start, handshake and exit, as a pwd-only batch, come off its time (a
    // difference smaller than a fifth of the run is noise: then the whole run counts).
    const base = (await runSftp(s, p.work, [batch.pwd()], timeoutMs)).seconds;
    const run = (await runSftp(s, p.work, [line], timeoutMs)).seconds;
    return run - base > run / 5 ? run - base : run;
  }
  if (client === "ssh2") {
    const sess = await ssh2Open(s, { noDelay: true });
    try {
      const t0 = performance.now();
      if (large) await call((cb) => (up ? sess.sftp.fastPut(p.local, target, {}, cb) : sess.sftp.fastGet(p.remote, target, {}, cb)));
      else {
        if (up) await call((cb) => sess.sftp.mkdir(target, cb));
        else await fs.mkdir(target, { recursive: true });
        await mapLimit(p.names, 4, (n) => call((cb) => (up ? sess.sftp.fastPut(path.join(p.localDir, n), `${target}/${n}`, {}, cb) : sess.sftp.fastGet(`${p.remoteDir}/${n}`, path.join(target, n), {}, cb))));
      }
      return (performance.now() - t0) / 1000;
    } finally {
      sess.close();
    }
  }
  const sftp = await connect(oursOptions(s));
  try {
    const streams = client === "ours-1-stream" ? 1 : undefined;
    const connections = client === "ours-2-connections" ? 2 : undefined;
    const t0 = performance.now();
    if (large) await (up ? sftp.upload(p.local, target, { streams, connections }) : sftp.download(p.remote, target, { streams, connections }));
    else await (up ? sftp.uploadDir(p.localDir, target, { streams }) : sftp.downloadDir(p.remoteDir, target, { streams }));
    return (performance.now() - t0) / 1000;
  } finally {
    await closeQuietly(sftp);
  }
}

export async function rttSection(st: Setup, rtts: readonly number[], config: RttConfig, log: (s: string) => void): Promise<RttRow[]> {
  const work = await fs.mkdtemp(path.join(st.localDir, "rtt-"));
  const local = st.src.local;
  const localDir = path.join(work, "files");
  const remoteDir = path.join(st.remoteDir, "rtt-files");
  await fs.mkdir(localDir);
  await fs.mkdir(remoteDir);
  await fs.chown(remoteDir, st.uid, st.gid);
  const names = Array.from({ length: config.files }, (_, i) => `f${String(i).padStart(4, "0")}.bin`);
  const block = new Uint8Array(config.fileBytes);
  for (const n of names) {
    crypto.getRandomValues(block.subarray(0, 65536));
    await fs.writeFile(path.join(localDir, n), block);
    await fs.writeFile(path.join(remoteDir, n), block);
    await fs.chown(path.join(remoteDir, n), st.uid, st.gid);
  }
  const rows: RttRow[] = [];
  for (const rtt of rtts) {
    const proxy = rtt > 0 ? await startDelay(st.s.port, rtt) : undefined;
    try {
      const s = proxy ? await throughProxy(st.s, proxy.port, work) : st.s;
      const clients = RTT_CLIENTS.filter((cl) => !config.clients || config.clients.includes(cl));
      for (const c of CASES.filter((x) => !config.cases || config.cases.includes(x))) {
        for (const client of Array.from({ length: Math.max(1, config.rounds ?? 1) }, () => clients).flat().filter((x) => x !== "ours-2-connections" || c.startsWith("large"))) {
          const bytes = c.startsWith("large") ? config.largeBytes : config.files * config.fileBytes;
          const row: RttRow = { rttMs: rtt, case: c, client, bytes };
          try {
            row.seconds = await withTimeout(runCase(s, client, c, { local, remote: st.src.remote, localDir, remoteDir, names, work }, config.timeoutMs), config.timeoutMs + 30_000, `${client} ${c}`);
            const landed = await bytesAt(targetOf(c, local, st.src.remote, localDir, remoteDir));
            if (landed !== bytes) throw new Error(`${landed} bytes arrived, not ${bytes}`);
            row.mbps = mbps(bytes, row.seconds);
          } catch (e) {
            row.error = errorText(e);
          }
          log(`  rtt ${rtt} ms ${c} ${client}: ${row.mbps !== undefined ? `${row.mbps.toFixed(1)} MB/s` : row.error}`);
          rows.push(row);
          // Each case starts from the same state: remove what it wrote.
          await fs.rm(targetOf(c, local, st.src.remote, localDir, remoteDir), { recursive: true, force: true });
        }
      }
    } finally {
      proxy?.stop();
    }
  }
  return rows;
}

export function renderRtt(rows: readonly RttRow[]): string {
  const out: string[] = [];
  for (const rtt of [...new Set(rows.map((r) => r.rttMs))]) {
    out.push(`### Round trip ${rtt} ms${rtt === 0 ? " (no proxy)" : " (delaying proxy)"}`, "", `| case | ${RTT_CLIENTS.join(" | ")} | ours default / OpenSSH | ours default / one stream |`, `|---|${RTT_CLIENTS.map(() => "---|").join("")}---|---|`);
    for (const c of CASES) {
      // Several rounds: the median, then every run in the order they ran.
      const runs = (cl: RttClient) => rows.filter((r) => r.rttMs === rtt && r.case === c && r.client === cl);
      const median = (cl: RttClient) => {
        const v = runs(cl).flatMap((r) => (r.mbps === undefined ? [] : [r.mbps])).sort((x, y) => x - y);
        return v.length ? v[(v.length - 1) >> 1] : undefined;
      };
      if (!RTT_CLIENTS.some((cl) => runs(cl).length)) continue;
      const cells = RTT_CLIENTS.map((cl) => {
        const rs = runs(cl);
        const m = median(cl);
        if (rs.length === 0) return "–";
        if (m === undefined) return `failed: ${rs[0]!.error ?? "?"}`;
        return rs.length === 1 ? `${m.toFixed(1)} MB/s` : `${m.toFixed(1)} MB/s (${rs.map((r) => r.mbps?.toFixed(1) ?? "failed").join(", ")})`;
      });
      const a = median("ours-default");
      const b = median("openssh");
      const one = median("ours-1-stream");
      const ratio = (x: number | undefined, y: number | undefined) => (x && y ? `${(x / y).toFixed(2)}×` : "?");
      out.push(`| ${c} | ${cells.join(" | ")} | ${ratio(a, b)} | ${ratio(a, one)} |`);
    }
    out.push("");
  }
  return out.join("\n");
}
