/**
 * OpenSSH's `sftp` client as a bench peer: batch mode (`-b FILE`), default transfer settings
 * (-B 32768, -R 64), `-F /dev/null` so no ssh_config changes them, the ed25519 client key, and
 * strict host-key checking against the bench server's known_hosts. Always spawned with an
 * argument array, never through a shell.
 *
 * A process's time includes its own start, handshake and exit. The transfer alone is timed from
 * the moment its target file appears (sftp creates the local file of a `get`, sftp-server the
 * remote file of a `put`, right before the first data; both are on this machine, so inotify via
 * fs.watch sees them) to the process's exit. When that cannot be seen, the caller subtracts the
 * time of a `pwd`-only batch instead.
 */
import { spawn, spawnSync } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { BenchServer, CipherCase } from "../common.js";

export function opensshVersion(): string {
  const r = spawnSync("ssh", ["-V"], { encoding: "utf8" });
  return `${r.stderr ?? ""}${r.stdout ?? ""}`.trim();
}

export function sftpArgs(s: BenchServer, batchFile: string, cc?: CipherCase): string[] {
  return [
    "-q", "-b", batchFile, "-P", String(s.port), "-F", "/dev/null", "-i", s.keyPath,
    "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
    "-o", `UserKnownHostsFile=${s.knownHostsPath}`, "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "StrictHostKeyChecking=yes",
    ...(cc ? ["-o", `Ciphers=${cc.cipher}`] : []),
    ...(cc?.mac ? ["-o", `MACs=${cc.mac}`] : []),
    `${s.username}@${s.host}`,
  ];
}

/** sftp batch lines quote paths, so spaces in temp dirs cannot split them. */
const q = (p: string) => `"${p.replace(/(["\\])/g, "\\$1")}"`;

export const batch = {
  get: (remote: string, local: string) => `get ${q(remote)} ${q(local)}`,
  put: (local: string, remote: string) => `put ${q(local)} ${q(remote)}`,
  putDir: (local: string, remote: string) => `put -r ${q(local)} ${q(remote)}`,
  pwd: () => "pwd",
};

export interface SftpRun {
  /** The process's wall time, spawn to exit. */
  seconds: number;
  /** From the watched file's creation to the process's exit (when a watch was asked for and fired). */
  fromCreateSeconds?: number;
}

/**
 * Runs `sftp -b` with the given batch lines. Rejects on a non-zero exit (with sftp's stderr) or
 * when `timeoutMs` passes (the process is killed). `watchFor` names a file (directory + base
 * name) whose creation starts the transfer's clock.
 */
export async function runSftp(
  s: BenchServer, workDir: string, lines: string[], timeoutMs: number, cc?: CipherCase,
  watchFor?: { dir: string; name: string },
): Promise<SftpRun> {
  const batchFile = path.join(workDir, `batch-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  await fs.writeFile(batchFile, lines.join("\n") + "\n");
  let watcher: FSWatcher | undefined;
  let created: number | undefined;
  try {
    if (watchFor) {
      watcher = watch(watchFor.dir, (_event, name) => {
        if (created === undefined && name === watchFor.name) created = performance.now();
      });
    }
    return await new Promise<SftpRun>((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn("sftp", sftpArgs(s, batchFile, cc), { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`sftp timed out after ${(timeoutMs / 1000).toFixed(0)} s`));
      }, timeoutMs);
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const end = performance.now();
        if (code !== 0) {
          reject(new Error(`sftp exited ${code ?? signal}: ${stderr.trim().split("\n").slice(-2).join(" ")}`));
          return;
        }
        resolve({ seconds: (end - t0) / 1000, ...(created !== undefined ? { fromCreateSeconds: (end - created) / 1000 } : {}) });
      });
    });
  } finally {
    watcher?.close();
    await fs.rm(batchFile, { force: true });
  }
}
