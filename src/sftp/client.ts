/**
 * The public SFTP client (shared/API.md): path operations, whole-file reads and writes, file
 * handles, OpenSSH extensions with fallbacks, and (in transfers.ts / streams.ts) uploads,
 * downloads and Web Streams.
 */
import { SftpError } from "../errors.js";
import type { SshConnection } from "../ssh/client.js";
import { replaceFile } from "./atomic-write.js";
import { Stats, type Attrs } from "./attrs.js";
import { COPY_DATA, encodeCopyDataRequest } from "./extensions/copy-data.js";
import { EXPAND_PATH, encodeExpandPathRequest } from "./extensions/expand-path.js";
import { HARDLINK, encodeHardlinkRequest } from "./extensions/hardlink.js";
import { HOME_DIRECTORY, encodeHomeDirectoryRequest } from "./extensions/home-directory.js";
import { LSETSTAT, encodeLsetstatRequest } from "./extensions/lsetstat.js";
import { POSIX_RENAME, encodePosixRenameRequest } from "./extensions/posix-rename.js";
import { STATVFS, decodeStatvfsReply, encodeStatvfsRequest, type StatvfsReply } from "./extensions/statvfs.js";
import { SftpFile, openFlags, requireExtension, type OpenMode } from "./file.js";
import { encodeClose, encodeReaddir } from "./packets/handle.js";
import {
  encodeLstat, encodeMkdir, encodeOpen, encodeOpendir, encodeReadlink, encodeRealpath, encodeRemove,
  encodeRename, encodeRmdir, encodeSetstat, encodeStat, encodeSymlink,
} from "./packets/path.js";
import {
  expectAttrs, expectExtendedReply, expectHandle, expectNames, expectOk, expectOneName, SftpSession, type SftpSessionOptions,
} from "./session.js";
import { readStream, writeStream, type ReadStreamOptions, type WriteStreamOptions } from "./streams.js";
import { downloadFile, uploadFile } from "./segmented.js";
import type { DownloadOptions, UploadOptions } from "./transfers.js";
import { joinPath, parentPath } from "./paths.js";
import { downloadDir, uploadDir, type DirTransferOptions, type DirTransferResult } from "./transfers-dir.js";

export interface WriteFileOptions {
  /** Permissions of the file (default: an existing file's, else the server's default). */
  mode?: number;
  /** Write to a temporary name and rename it over the target when done (default true). */
  atomic?: boolean;
}

export interface DirEntry {
  name: string;
  longname: string;
  attrs: Stats;
}

/** Names `list` accepts by default before it fails (see its `maxEntries`). */
export const DEFAULT_MAX_LIST_ENTRIES = 1_000_000;

export class SftpClient {
  /** @internal */
  constructor(
    /** The SSH connection this client runs on. */
    readonly ssh: SshConnection,
    /** @internal */
    readonly session: SftpSession,
    /** @internal The options of its session, for the extra sessions of segmented transfers. */
    readonly sessionOptions: SftpSessionOptions = {},
  ) {}

  /** Opens the sftp subsystem on an SSH connection. */
  static async open(ssh: SshConnection, options: SftpSessionOptions = {}): Promise<SftpClient> {
    const channel = await ssh.openSession();
    try {
      return new SftpClient(ssh, await SftpSession.start(channel, options), options);
    } catch (e) {
      void channel.close();
      throw e;
    }
  }

  /** Extensions the server announced (name → data). */
  get extensions(): ReadonlyMap<string, string> {
    return this.session.extensions;
  }

  // --- directories ---------------------------------------------------------------------------

  /**
   * Directory entries without `.` and `..`. A listing longer than `maxEntries` (default
   * 1,000,000; Infinity for no limit) fails with SftpError FAILURE instead of growing without
   * end: the server decides how many names it sends, and a hostile one never stops.
   */
  async list(path: string, options: { maxEntries?: number } = {}): Promise<DirEntry[]> {
    const max = options.maxEntries ?? DEFAULT_MAX_LIST_ENTRIES;
    const handle = expectHandle(await this.session.request((id) => encodeOpendir(id, { path })), path, "opendir");
    const out: DirEntry[] = [];
    let seen = 0;
    try {
      for (;;) {
        const names = expectNames(await this.session.request((id) => encodeReaddir(id, { handle })), path, "readdir");
        if (!names) break;
        // An empty batch counts as one, so endless empty replies end too.
        seen += Math.max(1, names.length);
        if (seen > max) throw new SftpError("FAILURE", `the listing of ${JSON.stringify(path)} exceeds ${max} entries (maxEntries)`, path);
        for (const n of names) {
          if (n.filename !== "." && n.filename !== "..") out.push({ name: n.filename, longname: n.longname, attrs: new Stats(n.attrs) });
        }
      }
    } finally {
      await this.closeHandle(handle, path);
    }
    return out;
  }

  async mkdir(path: string, options: { recursive?: boolean; mode?: number } = {}): Promise<void> {
    const attrs: Attrs = options.mode === undefined ? {} : { permissions: options.mode };
    const once = async (p: string) => expectOk(await this.session.request((id) => encodeMkdir(id, { path: p, attrs })), p, "mkdir");
    if (!options.recursive) return once(path);
    if (await this.isDirectory(path)) return;
    const parent = parentPath(path);
    if (parent !== path) await this.mkdir(parent, { recursive: true, mode: options.mode });
    try {
      await once(path);
    } catch (e) {
      // Servers report an existing directory as FAILURE; recursive mkdir accepts it, like mkdir -p.
      if (!(await this.isDirectory(path))) throw e;
    }
  }

  async rmdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    if (options.recursive) {
      for (const entry of await this.list(path)) {
        const child = joinPath(path, entry.name);
        if (entry.attrs.isDirectory()) await this.rmdir(child, { recursive: true });
        else await this.remove(child);
      }
    }
    expectOk(await this.session.request((id) => encodeRmdir(id, { path })), path, "rmdir");
  }

  // --- paths ---------------------------------------------------------------------------------

  async stat(path: string): Promise<Stats> {
    return new Stats(expectAttrs(await this.session.request((id) => encodeStat(id, { path })), path, "stat"));
  }

  async lstat(path: string): Promise<Stats> {
    return new Stats(expectAttrs(await this.session.request((id) => encodeLstat(id, { path })), path, "lstat"));
  }

  /** True when the path exists (following symlinks); false only for NO_SUCH_FILE. */
  async exists(path: string): Promise<boolean> {
    try {
      await this.stat(path);
      return true;
    } catch (e) {
      if (e instanceof SftpError && e.code === "NO_SUCH_FILE") return false;
      throw e;
    }
  }

  /** Removes a file or symlink. */
  async remove(path: string): Promise<void> {
    expectOk(await this.session.request((id) => encodeRemove(id, { path })), path, "remove");
  }

  /**
   * Renames. With `overwrite`, an existing target is replaced atomically through
   * posix-rename@openssh.com; servers without it get remove-then-rename (not atomic).
   */
  async rename(from: string, to: string, options: { overwrite?: boolean } = {}): Promise<void> {
    if (options.overwrite && this.session.extensions.has(POSIX_RENAME)) {
      const r = await this.session.request((id) => encodePosixRenameRequest(id, { oldPath: from, newPath: to }));
      return expectOk(r, from, "posix-rename");
    }
    if (options.overwrite && (await this.exists(to))) await this.remove(to);
    expectOk(await this.session.request((id) => encodeRename(id, { oldPath: from, newPath: to })), from, "rename");
  }

  async realpath(path: string): Promise<string> {
    return expectOneName(await this.session.request((id) => encodeRealpath(id, { path })), path, "realpath");
  }

  async readlink(path: string): Promise<string> {
    return expectOneName(await this.session.request((id) => encodeReadlink(id, { path })), path, "readlink");
  }

  /** Creates `linkPath` pointing at `target` (sent in OpenSSH's argument order). */
  async symlink(target: string, linkPath: string): Promise<void> {
    const r = await this.session.request((id) => encodeSymlink(id, { targetPath: target, linkPath }));
    expectOk(r, linkPath, "symlink");
  }

  async chmod(path: string, mode: number): Promise<void> {
    await this.setAttrs(path, { permissions: mode });
  }

  /** Sets access and modification times (seconds since the epoch). */
  async utimes(path: string, atime: number, mtime: number): Promise<void> {
    await this.setAttrs(path, { atime: Math.floor(atime), mtime: Math.floor(mtime) });
  }

  async setAttrs(path: string, attrs: Attrs, options: { followSymlinks?: boolean } = {}): Promise<void> {
    if (options.followSymlinks === false) {
      requireExtension(this.session, LSETSTAT, path);
      return expectOk(await this.session.request((id) => encodeLsetstatRequest(id, { path, attrs })), path, "lsetstat");
    }
    expectOk(await this.session.request((id) => encodeSetstat(id, { path, attrs })), path, "setstat");
  }

  // --- files ---------------------------------------------------------------------------------

  /** Opens a file with node:fs style flags ("r", "w", "a", "wx", "r+", …). */
  async open(path: string, mode: OpenMode = "r", attrs: Attrs = {}): Promise<SftpFile> {
    const pflags = openFlags(mode);
    const handle = expectHandle(await this.session.request((id) => encodeOpen(id, { path, pflags, attrs })), path, "open");
    return new SftpFile(this.session, handle, path);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const file = await this.open(path, "r");
    try {
      const size = (await file.stat()).size ?? 0;
      let buf = new Uint8Array(size);
      let length = 0;
      const reader = file.reader({});
      for (let c = await reader.next(); c; c = await reader.next()) {
        const end = c.offset + c.data.length;
        if (end > buf.length) {
          // The file grew since fstat: keep reading to EOF.
          const bigger = new Uint8Array(Math.max(end, buf.length * 2));
          bigger.set(buf.subarray(0, length));
          buf = bigger;
        }
        buf.set(c.data, c.offset);
        length = Math.max(length, end);
      }
      return length === buf.length ? buf : buf.slice(0, length);
    } finally {
      await file.close();
    }
  }

  /**
   * Writes a whole file. Atomic by default (atomic-write.ts): the bytes go to a temporary name
   * beside `path`, renamed over it once written, so neither a reader nor a dropped connection
   * ever leaves a partial file under `path`; an existing file's permissions are kept unless
   * `mode` is given, and a symbolic link is written through. `atomic: false` truncates and
   * writes `path` in place (one round trip less; it keeps the file's inode, owner and links).
   */
  async writeFile(path: string, data: Uint8Array | string, options: WriteFileOptions = {}): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    await replaceFile(this, path, options, (file) => file.writeAndClose(bytes, 0));
  }

  /** Uploads a local file; atomic by default (temp name in the target directory, then rename). */
  upload(localPath: string, remotePath: string, options: UploadOptions = {}): Promise<void> {
    return uploadFile(this, localPath, remotePath, options);
  }

  /** Downloads to a local temp file, renamed into place when complete. */
  download(remotePath: string, localPath: string, options: DownloadOptions = {}): Promise<void> {
    return downloadFile(this, remotePath, localPath, options);
  }

  /** Uploads a local directory tree, spread over several sessions (transfers-dir.ts). */
  uploadDir(localDir: string, remoteDir: string, options: DirTransferOptions = {}): Promise<DirTransferResult> {
    return uploadDir(this, localDir, remoteDir, options);
  }

  /** Downloads a remote directory tree, spread over several sessions (transfers-dir.ts). */
  downloadDir(remoteDir: string, localDir: string, options: DirTransferOptions = {}): Promise<DirTransferResult> {
    return downloadDir(this, remoteDir, localDir, options);
  }

  /** A Web ReadableStream over the file, bytes [start, end] inclusive like node:fs. */
  createReadStream(path: string, options: ReadStreamOptions = {}): ReadableStream<Uint8Array> {
    return readStream(this, path, options);
  }

  createWriteStream(path: string, options: WriteStreamOptions = {}): WritableStream<Uint8Array> {
    return writeStream(this, path, options);
  }

  // --- OpenSSH extensions ----------------------------------------------------------------------

  /** File system statistics (statvfs@openssh.com). */
  async statvfs(path: string): Promise<StatvfsReply> {
    requireExtension(this.session, STATVFS, path);
    return decodeStatvfsReply(expectExtendedReply(await this.session.request((id) => encodeStatvfsRequest(id, { path })), path, "statvfs"));
  }

  /** Creates a hard link `newPath` to `existingPath` (hardlink@openssh.com). */
  async hardlink(existingPath: string, newPath: string): Promise<void> {
    requireExtension(this.session, HARDLINK, newPath);
    const r = await this.session.request((id) => encodeHardlinkRequest(id, { oldPath: existingPath, newPath }));
    expectOk(r, newPath, "hardlink");
  }

  /** Flushes a remote file to stable storage (fsync@openssh.com). */
  async fsync(path: string): Promise<void> {
    const file = await this.open(path, "r+");
    try {
      await file.fsync();
    } finally {
      await file.close();
    }
  }

  /**
   * Copies a file on the server: copy-data when offered (no bytes cross the network),
   * otherwise read and write through this client.
   */
  async copy(from: string, to: string): Promise<void> {
    const src = await this.open(from, "r");
    try {
      const dst = await this.open(to, "w");
      try {
        if (this.session.extensions.has(COPY_DATA)) {
          const r = await this.session.request((id) =>
            encodeCopyDataRequest(id, { readHandle: src.handle, readOffset: 0, readLength: 0, writeHandle: dst.handle, writeOffset: 0 }));
          return expectOk(r, from, "copy-data");
        }
        const reader = src.reader({});
        const writer = dst.writer({});
        for (let c = await reader.next(); c; c = await reader.next()) await writer.write(c.data);
        await writer.flush();
      } finally {
        await dst.close();
      }
    } finally {
      await src.close();
    }
  }

  /**
   * A user's home directory (home-directory extension); by default the logged-in user's, which
   * without the extension is the server's starting directory.
   */
  async homeDirectory(username = this.ssh.username): Promise<string> {
    if (this.session.extensions.has(HOME_DIRECTORY)) {
      return expectOneName(await this.session.request((id) => encodeHomeDirectoryRequest(id, { username })), username, "home-directory");
    }
    if (username !== this.ssh.username) throw new SftpError("OP_UNSUPPORTED", "the server cannot look up another user's home directory");
    return this.realpath(".");
  }

  /** Expands `~` and `~user` prefixes and makes the path absolute (expand-path@openssh.com). */
  async expandPath(path: string): Promise<string> {
    if (this.session.extensions.has(EXPAND_PATH)) {
      return expectOneName(await this.session.request((id) => encodeExpandPathRequest(id, { path })), path, "expand-path");
    }
    if (path === "~" || path.startsWith("~/")) return this.realpath(path === "~" ? "." : path.slice(2) || ".");
    if (path.startsWith("~")) throw new SftpError("OP_UNSUPPORTED", "the server cannot expand ~user paths", path);
    return this.realpath(path);
  }

  // --- lifetime ------------------------------------------------------------------------------

  /** Closes the SFTP session and the SSH connection. */
  async close(): Promise<void> {
    // CHANNEL_CLOSE, then DISCONNECT without waiting for the server's answer: a server that
    // never answers cannot hang close(), and the channel ends with the connection anyway.
    const closing = this.session.close().catch(() => {});
    await this.ssh.close();
    await closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async isDirectory(path: string): Promise<boolean> {
    try {
      return (await this.stat(path)).isDirectory();
    } catch (e) {
      if (e instanceof SftpError && e.code === "NO_SUCH_FILE") return false;
      throw e;
    }
  }

  /** @internal Closes a handle; a failure here must not hide the error that got us here. */
  async closeHandle(handle: Uint8Array, path: string): Promise<void> {
    expectOk(await this.session.request((id) => encodeClose(id, { handle })), path, "close");
  }
}
