/**
 * Directory trees up and down, for the library (uploadDir/downloadDir) and the CLI (get/put -r)
 * alike: one planner walks the tree (entries in name order) into the directories to create and
 * the files to move, then the files are spread over several SFTP sessions (file-spread.ts), a
 * few at a time on each; large files among them are segmented (segmented.ts). Progress is
 * reported for the whole tree. Only regular files and directories are copied; symlinks and
 * special files are skipped (listed in the result).
 */
import { SshError } from "../errors.js";
import { listLocal, mkdirLocal, statLocal } from "../platform/local-files.js";
import type { SftpClient } from "./client.js";
import { fanOutSignal } from "./abort.js";
import { spreadFiles } from "./file-spread.js";
import { joinPath } from "./paths.js";
import { AUTO_MIN_SIZE, checkStreamOptions, streamsForSize } from "./segmented.js";
import { initialStreams, treeSessionRate } from "./auto-streams.js";
import { channelSource, type SessionSource } from "./session-source.js";
import type { Progress, StreamOptions } from "./transfers.js";

export interface DirTransferOptions extends StreamOptions {
  /** Files moving at the same time on each SFTP session (default 8). */
  concurrency?: number;
  onProgress?: (p: Progress & { file: string }) => void;
  signal?: AbortSignal;
  /**
   * "auto" (the default): on a long link the files are spread over up to DIR_AUTO_SESSIONS SFTP
   * sessions, as many as one session's round trips and window fall short by (one on a short
   * link), more opened while files wait (fewer when the server refuses them); each file of 16 MiB or more
   * is itself carried by several (see UploadOptions.streams). A number N: N sessions for the
   * tree and N streams for each large file; 1 moves everything over the one session.
   */
  streams?: number | "auto";
  /** SSH connections for each large file's streams (see UploadOptions.connections; default 1). */
  connections?: number;
  /** Continue each file's interrupted earlier transfer from its kept partial copy (see UploadOptions.resume). */
  resume?: boolean;
  /** Where the extra sessions come from (default: more channels on this client's connection). */
  sessions?: SessionSource;
}

export interface DirTransferResult {
  files: number;
  bytes: number;
  /** Paths that were neither regular files nor directories. */
  skipped: string[];
}

/** "auto" spreads a tree's files over at most this many sessions: room is left under sshd's MaxSessions (10) for large files' streams. */
export const DIR_AUTO_SESSIONS = 4;
/**
 * Files moving at once on each session, unless the caller says. Over a 100 ms link 8 moved a
 * tree of 1 MiB files 20-70 % faster than 4 (bench/README.md), the round trips of each file, not
 * the shared window, being the limit.
 */
export const PER_SESSION = 8;

export interface PlannedFile {
  from: string;
  to: string;
  size: number;
}

/** What a tree transfer does: directories to create (parents first), files to move, paths skipped. */
export interface DirPlan {
  dirs: string[];
  files: PlannedFile[];
  /** Neither regular file nor directory (symlinks, devices): not copied. */
  skipped: string[];
}

export const emptyPlan = (): DirPlan => ({ dirs: [], files: [], skipped: [] });

const localJoin = (a: string, b: string) => (a.endsWith("/") ? a + b : `${a}/${b}`);
const byName = <T extends { name: string }>(entries: T[]) => entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** Adds the local tree at `localDir` to `plan`, to go to `remoteDir`. */
export async function planUpload(localDir: string, remoteDir: string, plan: DirPlan): Promise<DirPlan> {
  plan.dirs.push(remoteDir);
  for (const e of byName(await listLocal(localDir))) {
    const from = localJoin(localDir, e.name);
    const to = joinPath(remoteDir, e.name);
    if (e.isDirectory) await planUpload(from, to, plan);
    else if (e.isFile) plan.files.push({ from, to, size: (await statLocal(from)).size });
    else plan.skipped.push(from);
  }
  return plan;
}

/** Adds the remote tree at `remoteDir` to `plan`, to go to `localDir`. */
export async function planDownload(client: SftpClient, remoteDir: string, localDir: string, plan: DirPlan): Promise<DirPlan> {
  plan.dirs.push(localDir);
  for (const e of byName(await client.list(remoteDir))) {
    const from = joinPath(remoteDir, e.name);
    const to = localJoin(localDir, e.name);
    if (e.attrs.isDirectory()) await planDownload(client, from, to, plan);
    else if (e.attrs.isFile()) plan.files.push({ from, to, size: e.attrs.size ?? 0 });
    else plan.skipped.push(from);
  }
  return plan;
}

export interface PlanRunOptions extends DirTransferOptions {
  /** A file starts moving; the returned function sees its bytes so far, then `undefined` when it ends (done or not). */
  onFile?: (file: PlannedFile) => (transferred: number | undefined) => void;
}

/** A whole number from 1 up, or INVALID_ARGUMENT (a NaN here would leave no file mover at all). */
function count(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 1) throw new SshError("INVALID_ARGUMENT", `${name} must be a number from 1 up, not ${value}`);
  return Math.floor(value);
}

/**
 * The sessions a tree may use: the streams asked for, or under "auto" what its small files need
 * on this link (auto-streams.ts treeSessionRate), at most DIR_AUTO_SESSIONS. Large files are
 * segmented on their own and do not count.
 */
function sessionsFor(streams: number | "auto" | undefined, client: SftpClient, plan: DirPlan, direction: "up" | "down", perSession: number): number {
  const s = streams ?? "auto";
  if (s !== "auto") return s;
  const small = plan.files.filter((f) => f.size < AUTO_MIN_SIZE);
  if (small.length === 0) return 1;
  const channel = client.session.channel;
  const window = direction === "up" ? channel.peerWindow : channel.receiveWindow;
  const average = small.reduce((n, f) => n + f.size, 0) / small.length;
  return initialStreams(treeSessionRate(window, perSession, average, client.session.roundTripMs), DIR_AUTO_SESSIONS);
}

/**
 * Creates the plan's directories, then moves its files ("up": local to remote, "down": remote to
 * local) spread over several sessions, with tree-wide progress.
 */
export async function runPlan(client: SftpClient, plan: DirPlan, direction: "up" | "down", options: PlanRunOptions = {}): Promise<DirTransferResult> {
  checkStreamOptions(options);
  const perSession = count(options.concurrency ?? PER_SESSION, "concurrency");
  const maxSessions = sessionsFor(options.streams, client, plan, direction, perSession);
  if (direction === "up") for (const d of plan.dirs) await client.mkdir(d, { recursive: true });
  else for (const d of plan.dirs) await mkdirLocal(d);
  const total = plan.files.reduce((n, f) => n + f.size, 0);
  let transferred = 0;
  // perSession × sessions files in flight, each listening for the abort: one listener on the caller's signal.
  const aborts = fanOutSignal(options.signal);
  try {
    await spreadFiles(client, {
      files: plan.files,
      perSession,
      maxSessions,
      source: options.sessions ?? channelSource(client),
      signal: aborts.signal,
      move: async (c, f) => {
        const seen = options.onFile?.(f);
        let moved = 0;
        const file = {
          signal: aborts.signal,
          resume: options.resume,
          // N streams for each large file only (as documented): a small one is one stream's work.
          streams: f.size < AUTO_MIN_SIZE ? 1 : streamsForSize(f.size, options.streams),
          connections: options.connections,
          onProgress: (p: Progress) => {
            transferred += p.transferred - moved;
            moved = p.transferred;
            seen?.(moved);
            options.onProgress?.({ transferred, total: Math.max(total, transferred), file: f.from });
          },
        };
        try {
          await (direction === "up" ? c.upload(f.from, f.to, file) : c.download(f.from, f.to, file));
          seen?.(Math.max(moved, f.size));
        } catch (e) {
          // Moved again from the start (or from its partial copy) if its session ended.
          transferred -= moved;
          throw e;
        } finally {
          seen?.(undefined);
        }
      },
    });
  } finally {
    aborts.dispose();
  }
  return { files: plan.files.length, bytes: transferred, skipped: plan.skipped };
}

export async function uploadDir(client: SftpClient, localDir: string, remoteDir: string, options: DirTransferOptions = {}): Promise<DirTransferResult> {
  return runPlan(client, await planUpload(localDir, remoteDir, emptyPlan()), "up", options);
}

export async function downloadDir(client: SftpClient, remoteDir: string, localDir: string, options: DirTransferOptions = {}): Promise<DirTransferResult> {
  return runPlan(client, await planDownload(client, remoteDir, localDir, emptyPlan()), "down", options);
}
