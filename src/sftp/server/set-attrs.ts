/**
 * SETSTAT, FSETSTAT and lsetstat@openssh.com: applying an ATTRS structure, in OpenSSH's order
 * (size, permissions, times, owner). Path-based changes first open the file with O_NOFOLLOW and
 * check the descriptor (see jail.ts), falling back to the checked path only when the file
 * cannot be opened (no read permission, e.g. mode 000).
 */
import * as fs from "../../platform/server-fs.js";
import type { Attrs } from "../attrs.js";
import type { Jail } from "./jail.js";

interface AttrTarget {
  truncate(size: number): Promise<void>;
  chmod(mode: number): Promise<void>;
  utimes(atime: number, mtime: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
}

export async function applyAttrs(target: AttrTarget, a: Attrs): Promise<void> {
  if (a.size !== undefined) await target.truncate(a.size);
  if (a.permissions !== undefined) await target.chmod(a.permissions & 0o7777);
  if (a.atime !== undefined && a.mtime !== undefined) await target.utimes(a.atime, a.mtime);
  if (a.uid !== undefined && a.gid !== undefined) await target.chown(a.uid, a.gid);
}

/** SETSTAT: follows symlinks that stay inside the jail. */
export async function setAttrsByPath(jail: Jail, path: string, a: Attrs): Promise<void> {
  const host = await jail.resolve(path);
  let opened: { file: fs.FsFile } | undefined;
  try {
    // Truncation needs a writable descriptor; everything else works on a read-only one.
    opened = await jail.open(path, a.size !== undefined ? { write: true } : { read: true });
  } catch (e) {
    if (!(e instanceof fs.FsError) || (e.code !== "EACCES" && e.code !== "EISDIR")) throw e;
  }
  if (opened) {
    try {
      return await applyAttrs(opened.file, a);
    } finally {
      await opened.file.close();
    }
  }
  await applyAttrs({
    truncate: (n) => fs.truncate(host, n),
    chmod: (m) => fs.chmod(host, m),
    utimes: (at, mt) => fs.utimes(host, at, mt),
    chown: (u, g) => fs.chown(host, u, g),
  }, a);
}

/** lsetstat@openssh.com: a symlink itself gets times and owner; its mode cannot change. */
export async function setAttrsNoFollow(jail: Jail, path: string, a: Attrs): Promise<void> {
  const p = await jail.resolveParent(path);
  const st = await fs.lstat(p.host);
  if (!st.isSymbolicLink) return setAttrsByPath(jail, path, a);
  if (a.size !== undefined || a.permissions !== undefined) throw new fs.FsError("EOPNOTSUPP", "cannot change a symlink's size or mode");
  if (a.atime !== undefined && a.mtime !== undefined) await fs.lutimes(p.host, a.atime, a.mtime);
  if (a.uid !== undefined && a.gid !== undefined) await fs.lchown(p.host, a.uid, a.gid);
}
