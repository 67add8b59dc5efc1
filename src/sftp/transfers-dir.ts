/**
 * Directory trees up and down: walk, create the directories, then move the files with a bounded
 * number of transfers at once. Progress is reported for the whole tree. Only regular files and
 * directories are copied; symlinks and special files are skipped (listed in the result).
 */
import { listLocal, mkdirLocal, statLocal } from "../platform/local-files.js";
import type { SftpClient } from "./client.js";
import { joinPath } from "./paths.js";
import { streamsForSize } from "./segmented.js";
import type { Progress } from "./transfers.js";

export interface DirTransferOptions {
  /** Files transferred at the same time (default 4). */
  concurrency?: number;
  onProgress?: (p: Progress & { file: string }) => void;
  signal?: AbortSignal;
  /** Streams for each large file (see UploadOptions.streams); small files always take one. */
  streams?: number | "auto";
  /** SSH connections for each large file's streams (see UploadOptions.connections; default 1). */
  connections?: number;
}

export interface DirTransferResult {
  files: number;
  bytes: number;
  /** Paths that were neither regular files nor directories. */
  skipped: string[];
}

interface Plan {
  dirs: string[];
  files: { from: string; to: string; size: number }[];
  skipped: string[];
}

const localJoin = (a: string, b: string) => (a.endsWith("/") ? a + b : `${a}/${b}`);

async function planLocal(localDir: string, remoteDir: string, plan: Plan): Promise<void> {
  plan.dirs.push(remoteDir);
  for (const e of await listLocal(localDir)) {
    const from = localJoin(localDir, e.name);
    const to = joinPath(remoteDir, e.name);
    if (e.isDirectory) await planLocal(from, to, plan);
    else if (e.isFile) plan.files.push({ from, to, size: (await statLocal(from)).size });
    else plan.skipped.push(from);
  }
}

async function planRemote(client: SftpClient, remoteDir: string, localDir: string, plan: Plan): Promise<void> {
  plan.dirs.push(localDir);
  for (const e of await client.list(remoteDir)) {
    const from = joinPath(remoteDir, e.name);
    const to = localJoin(localDir, e.name);
    if (e.attrs.isDirectory()) await planRemote(client, from, to, plan);
    else if (e.attrs.isFile()) plan.files.push({ from, to, size: e.attrs.size ?? 0 });
    else plan.skipped.push(from);
  }
}

/** Runs `move` over the plan's files, `concurrency` at a time, with tree-wide progress. */
async function runPlan(
  plan: Plan,
  options: DirTransferOptions,
  move: (from: string, to: string, size: number, onBytes: (n: number) => void) => Promise<void>,
): Promise<DirTransferResult> {
  const total = plan.files.reduce((n, f) => n + f.size, 0);
  let transferred = 0;
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < plan.files.length) {
      const f = plan.files[next++]!;
      let seen = 0;
      try {
        await move(f.from, f.to, f.size, (n) => {
          transferred += n - seen;
          seen = n;
          options.onProgress?.({ transferred, total: Math.max(total, transferred), file: f.from });
        });
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  if (failure !== undefined) throw failure;
  return { files: plan.files.length, bytes: transferred, skipped: plan.skipped };
}

export async function uploadDir(client: SftpClient, localDir: string, remoteDir: string, options: DirTransferOptions = {}): Promise<DirTransferResult> {
  const plan: Plan = { dirs: [], files: [], skipped: [] };
  await planLocal(localDir, remoteDir, plan);
  for (const d of plan.dirs) await client.mkdir(d, { recursive: true });
  return runPlan(plan, options, (from, to, size, onBytes) =>
    client.upload(from, to, { signal: options.signal, streams: streamsForSize(size, options.streams), connections: options.connections, onProgress: (p) => onBytes(p.transferred) }));
}

export async function downloadDir(client: SftpClient, remoteDir: string, localDir: string, options: DirTransferOptions = {}): Promise<DirTransferResult> {
  const plan: Plan = { dirs: [], files: [], skipped: [] };
  await planRemote(client, remoteDir, localDir, plan);
  for (const d of plan.dirs) await mkdirLocal(d);
  return runPlan(plan, options, (from, to, size, onBytes) =>
    client.download(from, to, { signal: options.signal, streams: streamsForSize(size, options.streams), connections: options.connections, onProgress: (p) => onBytes(p.transferred) }));
}
