/**
 * The small-files section of the bench: N files of a few KiB uploaded by ours (writeFile as it
 * comes, atomic, and with `atomic: false`, the work ssh2 does), ssh2 (`sftp.writeFile`) and
 * OpenSSH (`sftp put -r`), in interleaved rounds (ours, ours-plain, ssh2, sftp, ours, …) on a
 * shared, noisy machine, with the client's CPU and sshd's over each run: files per client
 * CPU-second is the client's cost per file even when sshd sets the pace (report.ts).
 */
import { randomFillSync } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Setup } from "./bench.js";
import { type Around, attempt, childrenCpuSeconds, errorText, treeCpu, treeCpuSince, waitNoChildren, TreeCpuMeter } from "./common.js";
import { batch, runSftp } from "./peers/openssh.js";
import { oursSmallFiles } from "./peers/ours.js";
import { ssh2SmallFiles } from "./peers/ssh2.js";
import { summariseSmallFiles, type SmallFilesRow, type SmallFilesRun } from "./report.js";

export interface SmallFilesConfig {
  sshdPid: number;
  files: number;
  bytesEach: number;
  /** writeFile calls in flight, for ours and ssh2. */
  concurrency: number;
  /** Runs of each client, interleaved. */
  rounds: number;
  log: (line: string) => void;
  /** Time and CPU of an `sftp` process with a pwd-only batch: what an sftp run costs besides the files. */
  opensshBaseline: () => Promise<{ seconds: number; cpuSeconds: number }>;
  /** The connect section's median for `sftp`, a fallback for the baseline's time. */
  handshakeMs?: number;
}

export async function smallFilesSection(st: Setup, config: SmallFilesConfig): Promise<SmallFilesRow[]> {
  const { files: n, bytesEach: size, sshdPid, handshakeMs, log } = config;
  const localSmall = path.join(st.localDir, "small");
  await fs.mkdir(localSmall);
  const names = Array.from({ length: n }, (_, i) => `f${String(i).padStart(5, "0")}.bin`);
  const block = Buffer.allocUnsafe(size);
  for (const name of names) {
    randomFillSync(block);
    await fs.writeFile(path.join(localSmall, name), block);
  }
  const verifyDir = async (dir: string) => {
    const entries = await fs.readdir(dir);
    const wrong = (await Promise.all(entries.map(async (e) => ((await fs.stat(path.join(dir, e))).size === size ? 0 : 1)))).reduce<number>((a, b) => a + b, 0);
    if (entries.length !== n || wrong) throw new Error(`verify: ${dir} holds ${entries.length} files (${wrong} of the wrong size), expected ${n}`);
  };
  const filesFor = (dir: string) => names.map((name) => ({ local: path.join(localSmall, name), remote: path.join(dir, name) }));
  const timeout = 60_000 + n * 200;
  const c = config.concurrency;
  const rows: SmallFilesRow[] = [
    { client: "ours", files: n, bytesEach: size, note: `writeFile (default: atomic, LSTAT + OPEN of a temporary name, WRITE + CLOSE, posix-rename), ${c} in flight`, runs: [] },
    { client: "ours-plain", files: n, bytesEach: size, note: `writeFile with \`atomic: false\` (OPEN, WRITE + CLOSE: ssh2's work), ${c} in flight`, runs: [] },
    { client: "ssh2", files: n, bytesEach: size, note: `sftp.writeFile (OPEN, WRITE, CLOSE), ${c} in flight`, runs: [] },
    { client: "openssh", files: n, bytesEach: size, note: "`put -r` of the directory", runs: [] },
  ];
  // The run's own timing and CPU, with sshd's CPU over the same window: snapshots of the
  // connection's processes just before and after it (they outlive the window).
  const inProcess = async (run: (around: Around) => Promise<{ seconds: number; cpuSeconds: number }>): Promise<SmallFilesRun> => {
    let server: { total: number; busiest: number } | undefined;
    const t = await run(async (window) => {
      const before = await treeCpu(sshdPid);
      const value = await window();
      server = await treeCpuSince(sshdPid, before);
      return value;
    });
    return { seconds: t.seconds, cpuSeconds: t.cpuSeconds, serverCpuSeconds: server?.total, serverBusiestCpuSeconds: server?.busiest };
  };
  const opensshBaseline = await attempt(config.opensshBaseline);
  // sftp is a fresh process (handshake included): its CPU and sshd's are taken over the whole
  // process, less a pwd-only batch's CPU for the client.
  const openssh = async (dir: string): Promise<SmallFilesRun> => {
    await waitNoChildren(sshdPid);
    const meter = await TreeCpuMeter.start(sshdPid);
    const c0 = await childrenCpuSeconds();
    let seconds: number;
    let note: string;
    try {
      const run = await runSftp(st.s, st.localDir, [batch.putDir(localSmall, dir)], timeout, undefined, { dir: path.dirname(dir), name: path.basename(dir) });
      const hs = opensshBaseline.ok ? opensshBaseline.seconds : handshakeMs !== undefined ? handshakeMs / 1000 : undefined;
      if (run.fromCreateSeconds !== undefined && run.fromCreateSeconds > 0) {
        seconds = run.fromCreateSeconds;
        note = "timed from the remote directory's creation to exit";
      } else if (hs !== undefined && run.seconds - hs > 0.01) {
        seconds = run.seconds - hs;
        note = `process time − ${(hs * 1000).toFixed(0)} ms pwd-only batch`;
      } else {
        seconds = run.seconds;
        note = "process time, handshake included";
      }
    } finally {
      await waitNoChildren(sshdPid, 1000);
    }
    const serverCpu = await meter.stop();
    const c1 = await childrenCpuSeconds();
    const cpuSeconds = c0 !== undefined && c1 !== undefined ? Math.max(0, c1 - c0 - (opensshBaseline.ok ? opensshBaseline.cpuSeconds : 0)) : undefined;
    return { seconds, cpuSeconds, serverCpuSeconds: serverCpu, note };
  };
  const measure = async (row: SmallFilesRow, round: number) => {
    const dir = path.join(st.remoteDir, `small-${row.client}-${round}`);
    try {
      const run = row.client === "ours" || row.client === "ours-plain"
        ? await inProcess((around) => oursSmallFiles(st.s, filesFor(dir), dir, c, timeout, { atomic: row.client === "ours", around }))
        : row.client === "ssh2"
          ? await inProcess((around) => ssh2SmallFiles(st.s, false, filesFor(dir), dir, c, timeout, around))
          : await openssh(dir);
      await verifyDir(dir);
      row.runs!.push(run);
      log(`  ${n} files ${row.client.padEnd(10)} round ${round + 1}: ${(n / run.seconds).toFixed(0)} files/s, ` +
        `${run.cpuSeconds ? `${(n / run.cpuSeconds).toFixed(0)} files per client CPU-s` : "client CPU ?"}, ` +
        `sshd ${run.serverCpuSeconds !== undefined ? `${((100 * run.serverCpuSeconds) / run.seconds).toFixed(0)}%` : "?"}`);
    } catch (e) {
      row.error ??= errorText(e);
      log(`  ${n} files ${row.client.padEnd(10)} round ${round + 1}: failed: ${errorText(e)}`);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rm(`${dir}.warmup`, { recursive: true, force: true });
    }
  };
  // Interleaved (ours, ours-plain, ssh2, sftp, ours, …): a noisy spell hits every client alike.
  for (let round = 0; round < config.rounds; round++) for (const row of rows) await measure(row, round);
  for (const row of rows) summariseSmallFiles(row);
  await fs.rm(localSmall, { recursive: true, force: true });
  return rows;
}
