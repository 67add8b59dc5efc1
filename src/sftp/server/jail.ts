/**
 * The jail: maps the paths an SFTP client sends onto a host directory that no path can leave.
 *
 * The client sees the root directory as "/" and starts there. Paths are normalised lexically
 * first, as chroot(2) would: "." is dropped and ".." stops at the root, so "../../etc/passwd" and
 * "/etc/passwd" both mean <root>/etc/passwd. Symlinks are the remaining way out, so every host
 * path the server uses comes from realpath(3) and is checked to lie inside the root's realpath:
 *
 *  - operations that follow the final component (open, stat, opendir, setstat, statvfs) resolve
 *    the whole path; a result outside the root is PERMISSION_DENIED;
 *  - operations on the final component itself (lstat, remove, rename, mkdir, rmdir, symlink,
 *    readlink, hardlink) resolve the parent directory and append the last name, which after
 *    normalisation is never "." or "..".
 *
 * Race windows (a component swapped for a symlink between the check and the use) are narrowed:
 *  - files and directories are opened with O_NOFOLLOW, so a final component swapped for a
 *    symlink fails with ELOOP;
 *  - after every open the descriptor's actual path (/proc/self/fd on Linux) is checked to be
 *    inside the root, and on other systems its device/inode must equal a fresh lstat of the
 *    checked path; a mismatch closes the descriptor and refuses the request;
 *  - directories are listed through their checked descriptor (see openDirectory);
 *  - attribute changes go through a checked descriptor where the file can be opened;
 *  - clients cannot create symlinks that point out: absolute targets are stored inside the root
 *    and relative ones may not climb above it, so a race needs a local user with write access
 *    to the root. What remains for such a user: path-based calls (stat, lstat, rename, unlink,
 *    mkdir, rmdir, link, symlink, readlink) whose parent directory is swapped for an outside
 *    symlink after its check; Node has no openat/renameat to close that window.
 */
import { SftpError } from "../../errors.js";
import * as fs from "../../platform/server-fs.js";
import type { FsFile, OpenFlags } from "../../platform/server-fs.js";

/** A host path whose parent was checked; `name` is "" only for the root itself. */
export interface ParentResolved {
  dir: string;
  name: string;
  host: string;
  virtual: string;
}

export class Jail {
  private constructor(readonly root: string) {}

  /** Opens a jail on `root`, which must be an existing directory. */
  static async create(root: string): Promise<Jail> {
    const real = await fs.realpath(root);
    const st = await fs.stat(real);
    if (!st.isDirectory) throw new fs.FsError("ENOTDIR", `SFTP root ${root} is not a directory`);
    return new Jail(real.length > 1 ? real.replace(/\/+$/, "") : real);
  }

  /** The normalised virtual path ("/"-rooted, no "." or "..", ".." stops at "/"). */
  virtual(path: string, cwd = "/"): string {
    const parts: string[] = [];
    const all = path.startsWith("/") ? path.split("/") : [...cwd.split("/"), ...path.split("/")];
    for (const p of all) {
      if (p === "" || p === ".") continue;
      if (p === "..") parts.pop();
      else parts.push(p);
    }
    return "/" + parts.join("/");
  }

  /** True when a relative symlink target, seen from virtual directory `dir`, climbs above "/". */
  escapes(dir: string, target: string): boolean {
    let depth = dir.split("/").filter((p) => p !== "").length;
    for (const p of target.split("/")) {
      if (p === "" || p === ".") continue;
      depth += p === ".." ? -1 : 1;
      if (depth < 0) return true;
    }
    return false;
  }

  /** The host path of a normalised virtual path (no symlinks resolved). */
  hostOf(virtual: string): string {
    return virtual === "/" ? this.root : this.root === "/" ? virtual : this.root + virtual;
  }

  /** `host` must be canonical (from realpath, or lexically normalised). */
  contains(host: string): boolean {
    return host === this.root || host.startsWith(this.root === "/" ? "/" : this.root + "/");
  }

  /** The virtual path of a host path inside the root. */
  toVirtual(host: string): string {
    if (!this.contains(host)) throw denied();
    return host === this.root ? "/" : this.root === "/" ? host : host.slice(this.root.length);
  }

  /** Resolves every symlink of `path`; the result must be inside the root. */
  async resolve(path: string): Promise<string> {
    const real = await fs.realpath(this.hostOf(this.virtual(path)));
    if (!this.contains(real)) throw denied();
    return real;
  }

  /** Resolves the parent directory of `path`, not its last component. */
  async resolveParent(path: string): Promise<ParentResolved> {
    const virtual = this.virtual(path);
    if (virtual === "/") return { dir: this.root, name: "", host: this.root, virtual };
    const slash = virtual.lastIndexOf("/");
    const name = virtual.slice(slash + 1);
    const dir = await this.resolve(virtual.slice(0, slash) || "/");
    return { dir, name, host: dir === "/" ? `/${name}` : `${dir}/${name}`, virtual };
  }

  /** Like resolveParent, but refuses the root itself (it cannot be removed or renamed). */
  async resolveEntry(path: string): Promise<ParentResolved> {
    const r = await this.resolveParent(path);
    if (r.name === "") throw denied("the root directory cannot be changed");
    return r;
  }

  /**
   * Opens a file or directory by client path, following in-jail symlinks: an existing path is
   * resolved in full; a path to be created has its parent resolved. The open itself uses
   * O_NOFOLLOW, and the descriptor is checked afterwards (see the file comment).
   */
  async open(path: string, flags: OpenFlags, mode?: number): Promise<{ file: FsFile; host: string }> {
    let host: string;
    try {
      host = await this.resolve(path);
    } catch (e) {
      if (!(e instanceof fs.FsError && e.code === "ENOENT" && flags.create)) throw e;
      const p = await this.resolveEntry(path);
      host = p.host;
    }
    const file = await fs.openFile(host, flags, mode);
    try {
      await this.checkDescriptor(file, host);
    } catch (e) {
      await file.close().catch(() => {});
      throw e;
    }
    return { file, host };
  }

  /** The descriptor must still name a file inside the root (closes the check-to-use window). */
  async checkDescriptor(file: FsFile, host: string): Promise<void> {
    const now = await file.currentPath();
    if (now !== undefined) {
      if (!this.contains(now)) throw denied();
      return;
    }
    const [a, b] = await Promise.all([file.stat(), fs.lstat(host)]);
    if (a.dev !== b.dev || a.ino !== b.ino) throw denied("the file changed while it was being opened");
  }
}

export function denied(message = "the path leads outside the server's root directory"): SftpError {
  return new SftpError("PERMISSION_DENIED", message);
}
