/**
 * The file system calls the embedded SFTP server makes, on host paths its jail has already
 * checked (src/sftp/server/jail.ts). node:fs exists on Node, Deno and Bun; this module is the
 * only one of the server that touches it, so another host only replaces these functions.
 *
 * Every failure is an FsError carrying the errno name (ENOENT, EACCES, ELOOP, …); nothing
 * Node-specific (Buffer, Stats, FileHandle) escapes.
 */
import { constants, type Dir } from "node:fs";
import * as fsp from "node:fs/promises";

export class FsError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = "FsError";
  }
}

/** The parts of lstat/fstat the server reports; times in whole seconds since the epoch. */
export interface FsStat {
  mode: number;
  size: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  nlink: number;
  dev: number;
  ino: number;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

export interface FsStatvfs {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export interface OpenFlags {
  read?: boolean;
  write?: boolean;
  append?: boolean;
  create?: boolean;
  truncate?: boolean;
  exclusive?: boolean;
  /** Opening a directory (for the no-follow, verify-then-use pattern on directories). */
  directory?: boolean;
}

/** An open file descriptor. */
export interface FsFile {
  readonly fd: number;
  read(buf: Uint8Array, position: number): Promise<number>;
  write(data: Uint8Array, position: number): Promise<void>;
  stat(): Promise<FsStat>;
  truncate(size: number): Promise<void>;
  chmod(mode: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
  utimes(atime: number, mtime: number): Promise<void>;
  sync(): Promise<void>;
  /** The path the kernel says this descriptor refers to now; undefined where it cannot tell. */
  currentPath(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** A directory being listed, one name at a time ("." and ".." are not returned). */
export interface FsDir {
  read(): Promise<string | null>;
  close(): Promise<void>;
}

function fsError(e: unknown): FsError {
  const code = (e as { code?: unknown })?.code;
  return new FsError(typeof code === "string" ? code : "EIO", (e as Error)?.message ?? String(e));
}

async function wrap<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw fsError(e);
  }
}

function toStat(s: import("node:fs").Stats): FsStat {
  return {
    mode: s.mode,
    size: s.size,
    uid: s.uid,
    gid: s.gid,
    atime: Math.floor(s.atimeMs / 1000),
    mtime: Math.floor(s.mtimeMs / 1000),
    nlink: s.nlink,
    dev: s.dev,
    ino: s.ino,
    isFile: s.isFile(),
    isDirectory: s.isDirectory(),
    isSymbolicLink: s.isSymbolicLink(),
  };
}

/** O_NOFOLLOW and O_NONBLOCK where the platform has them (not on Windows). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;
const DIRECTORY = constants.O_DIRECTORY ?? 0;

/** Linux names an open descriptor's file in /proc/self/fd; elsewhere this returns undefined. */
async function fdPath(fd: number): Promise<string | undefined> {
  try {
    return await fsp.readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/**
 * Opens `path` without following a symlink in its final component (O_NOFOLLOW) and without
 * blocking on FIFOs (O_NONBLOCK).
 */
export async function openFile(path: string, flags: OpenFlags, mode = 0o666): Promise<FsFile> {
  let f = flags.read && flags.write ? constants.O_RDWR : flags.write ? constants.O_WRONLY : constants.O_RDONLY;
  if (flags.append) f |= constants.O_APPEND;
  if (flags.create) f |= constants.O_CREAT;
  if (flags.truncate) f |= constants.O_TRUNC;
  if (flags.exclusive) f |= constants.O_EXCL;
  if (flags.directory) f |= DIRECTORY;
  const fh = await wrap(() => fsp.open(path, f | NOFOLLOW | NONBLOCK, mode));
  return {
    fd: fh.fd,
    read: (buf, position) => wrap(async () => (await fh.read(buf, 0, buf.length, position)).bytesRead),
    write: (data, position) =>
      wrap(async () => {
        let done = 0;
        while (done < data.length) done += (await fh.write(data, done, data.length - done, position + done)).bytesWritten;
      }),
    stat: () => wrap(async () => toStat(await fh.stat())),
    truncate: (size) => wrap(() => fh.truncate(size)),
    chmod: (m) => wrap(() => fh.chmod(m)),
    chown: (uid, gid) => wrap(() => fh.chown(uid, gid)),
    utimes: (a, m) => wrap(() => fh.utimes(a, m)),
    sync: () => wrap(() => fh.sync()),
    currentPath: () => fdPath(fh.fd),
    close: () => wrap(() => fh.close()),
  };
}

/**
 * Lists a directory that `dir` (opened with `directory: true`) refers to. On Linux the listing
 * goes through /proc/self/fd, so it reads the very directory that was opened and checked even if
 * its path has been swapped since; elsewhere it opens `fallbackPath`.
 */
export async function openDirectory(dir: FsFile, fallbackPath: string): Promise<FsDir> {
  const viaFd = (await dir.currentPath()) !== undefined ? `/proc/self/fd/${dir.fd}` : fallbackPath;
  const d: Dir = await wrap(() => fsp.opendir(viaFd, { bufferSize: 32 }));
  return {
    read: () => wrap(async () => (await d.read())?.name ?? null),
    close: () => wrap(() => d.close()),
  };
}

export const realpath = (p: string): Promise<string> => wrap(() => fsp.realpath(p));
export const lstat = (p: string): Promise<FsStat> => wrap(async () => toStat(await fsp.lstat(p)));
export const stat = (p: string): Promise<FsStat> => wrap(async () => toStat(await fsp.stat(p)));
export const mkdir = (p: string, mode: number): Promise<void> => wrap(() => fsp.mkdir(p, { mode }));
export const rmdir = (p: string): Promise<void> => wrap(() => fsp.rmdir(p));
export const unlink = (p: string): Promise<void> => wrap(() => fsp.unlink(p));
export const rename = (from: string, to: string): Promise<void> => wrap(() => fsp.rename(from, to));
export const link = (existing: string, newPath: string): Promise<void> => wrap(() => fsp.link(existing, newPath));
export const symlink = (target: string, path: string): Promise<void> => wrap(() => fsp.symlink(target, path));
export const readlink = (p: string): Promise<string> => wrap(() => fsp.readlink(p));
export const chmod = (p: string, mode: number): Promise<void> => wrap(() => fsp.chmod(p, mode));
export const utimes = (p: string, a: number, m: number): Promise<void> => wrap(() => fsp.utimes(p, a, m));
export const lutimes = (p: string, a: number, m: number): Promise<void> => wrap(() => fsp.lutimes(p, a, m));
export const truncate = (p: string, size: number): Promise<void> => wrap(() => fsp.truncate(p, size));
export const chown = (p: string, uid: number, gid: number): Promise<void> => wrap(() => fsp.chown(p, uid, gid));
export const lchown = (p: string, uid: number, gid: number): Promise<void> => wrap(() => fsp.lchown(p, uid, gid));

export async function statvfs(p: string): Promise<FsStatvfs> {
  return wrap(async () => {
    const s = await fsp.statfs(p);
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
  });
}
