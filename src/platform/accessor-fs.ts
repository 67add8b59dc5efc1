/**
 * The local file system operations DiskAccessor needs beyond local-files.ts: path resolution,
 * lstat without throwing for a missing path, directory listing, mkdir/rmdir/unlink that report
 * every failure, and file URLs. Failures are SshError `LOCAL_<errno>` (see local-files.ts).
 */
import { lstat, mkdir, readdir, rmdir, stat, unlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { localError, type LocalStat } from "./local-files.js";
import { expandHome } from "./local.js";

/** The platform's path separator. */
export const LOCAL_SEPARATOR = sep;

/** An absolute, normalised local path (`~` expanded, relative paths from the working directory). */
export function resolveLocalPath(path: string): string {
  return resolve(expandHome(path));
}

export function joinLocalPath(base: string, ...segments: string[]): string {
  return join(base, ...segments);
}

export function parentLocalPath(path: string): string {
  return dirname(path);
}

export function localBaseName(path: string): string {
  return basename(path);
}

export function isAbsoluteLocalPath(path: string): boolean {
  return isAbsolute(path);
}

/** `to` relative to `from`, with "/" separators ("" when equal). */
export function relativeLocalPath(from: string, to: string): string {
  return relative(from, to).split(sep).join("/");
}

/** Stats `path` (following symlinks unless `follow` is false); undefined when it does not exist. */
export async function statLocalPath(path: string, options: { follow?: boolean } = {}): Promise<LocalStat | undefined> {
  try {
    const s = options.follow === false ? await lstat(path) : await stat(path);
    return { size: s.size, mode: s.mode, isFile: s.isFile(), isDirectory: s.isDirectory(), atime: s.atimeMs / 1000, mtime: s.mtimeMs / 1000 };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw localError(e, path, "stat");
  }
}

/** The names in a directory (without . and ..). */
export async function listLocalNames(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (e) {
    throw localError(e, path, "list");
  }
}

/** Creates a directory; `recursive` also creates parents and accepts an existing directory. */
export async function makeLocalDirectory(path: string, recursive: boolean): Promise<void> {
  try {
    await mkdir(path, { recursive });
  } catch (e) {
    throw localError(e, path, "create directory");
  }
}

/** Removes an empty directory (LOCAL_ENOTEMPTY otherwise). */
export async function removeLocalDirectory(path: string): Promise<void> {
  try {
    await rmdir(path);
  } catch (e) {
    throw localError(e, path, "remove directory");
  }
}

/** Removes a file or symlink; a missing file is LOCAL_ENOENT. */
export async function removeLocalFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    throw localError(e, path, "remove");
  }
}

/** A file:// URL for an absolute local path. */
export function localFileUrl(path: string): string {
  return pathToFileURL(path).href;
}
