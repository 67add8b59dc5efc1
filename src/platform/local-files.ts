/**
 * Local files for uploads and downloads. node:fs/promises exists on Node, Deno and Bun; this
 * module is the one place that touches it for transfers. Failures become SshError with code
 * `LOCAL_<errno>` (LOCAL_ENOENT, LOCAL_ENOSPC, …) naming the path, so a full disk or a missing
 * source reads as clearly as a server-side error.
 */
import { open, mkdir, readdir, rename, stat, unlink, utimes, type FileHandle } from "node:fs/promises";
import { SshError } from "../errors.js";

export interface LocalFile {
  /** Reads into `buf` at file offset `position`; resolves with the bytes read (0 at EOF). */
  read(buf: Uint8Array, position: number): Promise<number>;
  /** Writes all of `data` at `position`. */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Writes all of `parts`, one after another, from `position`: one system call (pwritev) as a rule. */
  writev(parts: Uint8Array[], position: number): Promise<void>;
  size(): Promise<number>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface LocalStat {
  size: number;
  mode: number;
  isFile: boolean;
  isDirectory: boolean;
  atime: number;
  mtime: number;
}

export function localError(e: unknown, path: string, action: string): SshError {
  const code = (e as NodeJS.ErrnoException)?.code ?? "EIO";
  return new SshError(`LOCAL_${code}`, `cannot ${action} local ${JSON.stringify(path)}: ${(e as Error)?.message ?? e}`, { cause: e });
}

async function local<T>(path: string, action: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw localError(e, path, action);
  }
}

/**
 * Opens for reading ("r"), for reading and writing an existing file ("r+"), or creates/truncates
 * for writing ("w", with `mode`).
 */
export async function openLocal(path: string, flags: "r" | "r+" | "w", mode = 0o644): Promise<LocalFile> {
  const fh: FileHandle = await local(path, flags === "w" ? "create" : "open", () => open(path, flags, mode));
  /** The rest of `data` after `done` bytes, written at `position + done` (short writes go on). */
  const writeFrom = async (data: Uint8Array, done: number, position: number) => {
    while (done < data.length) done += (await fh.write(data, done, data.length - done, position + done)).bytesWritten;
  };
  return {
    read: (buf, position) => local(path, "read", async () => (await fh.read(buf, 0, buf.length, position)).bytesRead),
    write: (data, position) => local(path, "write", () => writeFrom(data, 0, position)),
    writev: (parts, position) =>
      local(path, "write", async () => {
        let written = (await fh.writev(parts, position)).bytesWritten;
        // A short write (a signal, a nearly full disk) goes on part by part from where it stopped.
        for (const p of parts) {
          const done = Math.min(written, p.length);
          written -= done;
          await writeFrom(p, done, position);
          position += p.length;
        }
      }),
    size: () => local(path, "stat", async () => (await fh.stat()).size),
    truncate: (length) => local(path, "truncate", () => fh.truncate(length)),
    close: () => local(path, "close", () => fh.close()),
  };
}

/** Stat, or undefined when the path does not exist. */
export async function statLocalIfExists(path: string): Promise<LocalStat | undefined> {
  try {
    return await statLocal(path);
  } catch (e) {
    if ((e as SshError).code === "LOCAL_ENOENT") return undefined;
    throw e;
  }
}

export function statLocal(path: string): Promise<LocalStat> {
  return local(path, "stat", async () => {
    const s = await stat(path);
    return { size: s.size, mode: s.mode, isFile: s.isFile(), isDirectory: s.isDirectory(), atime: s.atimeMs / 1000, mtime: s.mtimeMs / 1000 };
  });
}

export function renameLocal(from: string, to: string): Promise<void> {
  return local(to, "rename into", () => rename(from, to));
}

/** Removes a file; a file that is already gone is not an error. */
export async function removeLocal(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw localError(e, path, "remove");
  }
}

export function mkdirLocal(path: string): Promise<void> {
  return local(path, "create directory", async () => void (await mkdir(path, { recursive: true })));
}

/** Directory entries with their kind. */
export function listLocal(path: string): Promise<{ name: string; isDirectory: boolean; isFile: boolean }[]> {
  return local(path, "list", async () =>
    (await readdir(path, { withFileTypes: true })).map((d) => ({ name: d.name, isDirectory: d.isDirectory(), isFile: d.isFile() })),
  );
}

export function setLocalTimes(path: string, atime: number, mtime: number): Promise<void> {
  return local(path, "set times of", () => utimes(path, atime, mtime));
}
