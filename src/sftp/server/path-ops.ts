/**
 * The server side of the requests that name a path (draft §6.3-§6.10): OPEN, OPENDIR, STAT,
 * LSTAT, SETSTAT, REMOVE, MKDIR, RMDIR, REALPATH, RENAME, READLINK, SYMLINK. Every path goes
 * through the jail first.
 */
import * as fs from "../../platform/server-fs.js";
import { OpenFlags } from "../constants.js";
import type * as p from "../packets/path.js";
import { encodeHandle } from "../packets/response.js";
import { type ServerContext, attrsReply, ok, oneName } from "./context.js";
import { denied, type Jail } from "./jail.js";
import { attrsOf } from "./listing.js";
import { setAttrsByPath } from "./set-attrs.js";

export async function open(ctx: ServerContext, r: p.OpenPacket): Promise<Uint8Array> {
  ctx.handles.checkRoom();
  const f = r.pflags;
  const flags: fs.OpenFlags = {
    read: (f & OpenFlags.READ) !== 0,
    write: (f & (OpenFlags.WRITE | OpenFlags.APPEND)) !== 0,
    append: (f & OpenFlags.APPEND) !== 0,
    create: (f & OpenFlags.CREAT) !== 0,
    truncate: (f & OpenFlags.TRUNC) !== 0,
    exclusive: (f & OpenFlags.EXCL) !== 0,
  };
  const mode = r.attrs.permissions !== undefined ? r.attrs.permissions & 0o7777 : 0o666;
  const { file, host } = await ctx.jail.open(r.path, flags, mode);
  return encodeHandle(r.id, { handle: ctx.handles.add({ kind: "file", file, host, append: flags.append }) });
}

export async function opendir(ctx: ServerContext, r: p.OpendirPacket): Promise<Uint8Array> {
  ctx.handles.checkRoom();
  const { file, host } = await ctx.jail.open(r.path, { read: true, directory: true });
  let dir: Awaited<ReturnType<typeof fs.openDirectory>>;
  try {
    dir = await fs.openDirectory(file, host);
  } catch (e) {
    await file.close().catch(() => {});
    throw e;
  }
  return encodeHandle(r.id, { handle: ctx.handles.add({ kind: "dir", dir, fd: file, host }) });
}

export async function stat(ctx: ServerContext, r: p.StatPacket): Promise<Uint8Array> {
  return attrsReply(r.id, attrsOf(await fs.stat(await ctx.jail.resolve(r.path))));
}

export async function lstat(ctx: ServerContext, r: p.LstatPacket): Promise<Uint8Array> {
  return attrsReply(r.id, attrsOf(await fs.lstat((await ctx.jail.resolveParent(r.path)).host)));
}

export async function setstat(ctx: ServerContext, r: p.SetstatPacket): Promise<Uint8Array> {
  await setAttrsByPath(ctx.jail, r.path, r.attrs);
  return ok(r.id);
}

export async function remove(ctx: ServerContext, r: p.RemovePacket): Promise<Uint8Array> {
  await fs.unlink((await ctx.jail.resolveEntry(r.path)).host);
  return ok(r.id);
}

export async function mkdir(ctx: ServerContext, r: p.MkdirPacket): Promise<Uint8Array> {
  const mode = r.attrs.permissions !== undefined ? r.attrs.permissions & 0o7777 : 0o777;
  await fs.mkdir((await ctx.jail.resolveEntry(r.path)).host, mode);
  return ok(r.id);
}

export async function rmdir(ctx: ServerContext, r: p.RmdirPacket): Promise<Uint8Array> {
  await fs.rmdir((await ctx.jail.resolveEntry(r.path)).host);
  return ok(r.id);
}

export async function realpath(ctx: ServerContext, r: p.RealpathPacket): Promise<Uint8Array> {
  return oneName(r.id, await canonical(ctx.jail, r.path));
}

/**
 * The canonical virtual path: symlinks resolved (inside the jail only). Like OpenSSH, the last
 * component may not exist yet (clients canonicalise upload targets).
 */
export async function canonical(jail: Jail, path: string): Promise<string> {
  try {
    return jail.toVirtual(await jail.resolve(path));
  } catch (e) {
    if (!(e instanceof fs.FsError && e.code === "ENOENT")) throw e;
  }
  const parent = await jail.resolveEntry(path);
  const dir = jail.toVirtual(parent.dir);
  return dir === "/" ? `/${parent.name}` : `${dir}/${parent.name}`;
}

/** v3 RENAME never replaces an existing target (OpenSSH: link+unlink for files, else a check). */
export async function rename(ctx: ServerContext, r: p.RenamePacket): Promise<Uint8Array> {
  const from = await ctx.jail.resolveEntry(r.oldPath);
  const to = await ctx.jail.resolveEntry(r.newPath);
  const st = await fs.lstat(from.host);
  if (st.isFile) {
    try {
      await fs.link(from.host, to.host);
      await fs.unlink(from.host);
      return ok(r.id);
    } catch (e) {
      // Some file systems have no hard links: fall back to check-then-rename.
      if (!(e instanceof fs.FsError) || !["EXDEV", "EPERM", "EOPNOTSUPP", "ENOTSUP", "EMLINK"].includes(e.code)) throw e;
    }
  }
  if (await exists(to.host)) throw new fs.FsError("EEXIST", "target exists");
  await fs.rename(from.host, to.host);
  return ok(r.id);
}

async function exists(host: string): Promise<boolean> {
  try {
    await fs.lstat(host);
    return true;
  } catch (e) {
    if (e instanceof fs.FsError && e.code === "ENOENT") return false;
    throw e;
  }
}

/** The link's target as the client should see it; targets that lead out are refused. */
export async function readlink(ctx: ServerContext, r: p.ReadlinkPacket): Promise<Uint8Array> {
  const link = await ctx.jail.resolveEntry(r.path);
  const target = await fs.readlink(link.host);
  // An absolute target is a host path: normalise it lexically before checking it.
  if (target.startsWith("/")) return oneName(r.id, ctx.jail.toVirtual(ctx.jail.virtual(target)));
  // Relative targets resolve from the link's real directory, not the path the client used.
  if (ctx.jail.escapes(ctx.jail.toVirtual(link.dir), target)) throw denied("the link points outside the server's root directory");
  return oneName(r.id, target);
}

/**
 * SYMLINK (OpenSSH order: target, link). An absolute target is a virtual path and is stored as
 * the host path inside the root; a relative target may not climb above the root.
 */
export async function symlink(ctx: ServerContext, r: p.SymlinkPacket): Promise<Uint8Array> {
  const link = await ctx.jail.resolveEntry(r.linkPath);
  let target = r.targetPath;
  if (target.startsWith("/")) target = ctx.jail.hostOf(ctx.jail.virtual(target));
  else if (ctx.jail.escapes(ctx.jail.toVirtual(link.dir), target)) {
    throw denied("a symlink may not point outside the server's root directory");
  }
  await fs.symlink(target, link.host);
  return ok(r.id);
}
