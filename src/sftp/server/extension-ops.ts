/**
 * The OpenSSH extensions the server offers (OpenSSH PROTOCOL §4), one handler each, and the
 * list announced in VERSION. Request data is decoded with the same codecs the client encodes
 * with (src/sftp/extensions/).
 */
import { SftpError } from "../../errors.js";
import * as fs from "../../platform/server-fs.js";
import type { ExtensionPair } from "../packets/init.js";
import type { ExtendedPacket } from "../packets/extended.js";
import { COPY_DATA, decodeCopyDataRequest } from "../extensions/copy-data.js";
import { EXPAND_PATH, decodeExpandPathRequest } from "../extensions/expand-path.js";
import { FSYNC, decodeFsyncRequest } from "../extensions/fsync.js";
import { HARDLINK, decodeHardlinkRequest } from "../extensions/hardlink.js";
import { HOME_DIRECTORY, decodeHomeDirectoryRequest } from "../extensions/home-directory.js";
import { LIMITS, decodeLimitsRequest, encodeLimitsReply } from "../extensions/limits.js";
import { LSETSTAT, decodeLsetstatRequest } from "../extensions/lsetstat.js";
import { POSIX_RENAME, decodePosixRenameRequest } from "../extensions/posix-rename.js";
import {
  FSTATVFS, STATVFS, decodeFstatvfsRequest, decodeStatvfsRequest, encodeStatvfsReply,
} from "../extensions/statvfs.js";
import { type ServerContext, ok, oneName } from "./context.js";
import { canonical } from "./path-ops.js";
import { setAttrsNoFollow } from "./set-attrs.js";

type Handler = (ctx: ServerContext, id: number, data: Uint8Array) => Promise<Uint8Array>;

/** Copy-data moves at most this much per read, so a large copy stays in bounded memory. */
const COPY_CHUNK = 64 * 1024;

const HANDLERS: Record<string, Handler> = {
  [LIMITS]: async (ctx, id, data) => {
    decodeLimitsRequest(data);
    const l = ctx.limits;
    return encodeLimitsReply(id, {
      maxPacketLength: l.maxPacketLength,
      maxReadLength: l.maxReadLength,
      maxWriteLength: l.maxPacketLength - 1024,
      maxOpenHandles: l.maxOpenHandles,
    });
  },
  [POSIX_RENAME]: async (ctx, id, data) => {
    const req = decodePosixRenameRequest(data);
    const from = await ctx.jail.resolveEntry(req.oldPath);
    const to = await ctx.jail.resolveEntry(req.newPath);
    await fs.rename(from.host, to.host);
    return ok(id);
  },
  [HARDLINK]: async (ctx, id, data) => {
    const req = decodeHardlinkRequest(data);
    const from = await ctx.jail.resolveEntry(req.oldPath);
    const to = await ctx.jail.resolveEntry(req.newPath);
    await fs.link(from.host, to.host);
    return ok(id);
  },
  [STATVFS]: async (ctx, id, data) => statvfsReply(id, await ctx.jail.resolve(decodeStatvfsRequest(data).path)),
  [FSTATVFS]: async (ctx, id, data) => statvfsReply(id, ctx.handles.file(decodeFstatvfsRequest(data).handle).host),
  [FSYNC]: async (ctx, id, data) => {
    await ctx.handles.file(decodeFsyncRequest(data).handle).file.sync();
    return ok(id);
  },
  [LSETSTAT]: async (ctx, id, data) => {
    const req = decodeLsetstatRequest(data);
    await setAttrsNoFollow(ctx.jail, req.path, req.attrs);
    return ok(id);
  },
  [EXPAND_PATH]: async (ctx, id, data) => {
    let path = decodeExpandPathRequest(data).path;
    const m = /^~([^/]*)(\/.*)?$/.exec(path);
    if (m) {
      if (m[1] !== "" && m[1] !== ctx.username) throw new SftpError("NO_SUCH_FILE", `no such user "${m[1]}"`);
      path = "/" + (m[2] ?? "");
    }
    return oneName(id, await canonical(ctx.jail, path));
  },
  [HOME_DIRECTORY]: async (ctx, id, data) => {
    const { username } = decodeHomeDirectoryRequest(data);
    if (username !== "" && username !== ctx.username) throw new SftpError("NO_SUCH_FILE", `no such user "${username}"`);
    return oneName(id, "/");
  },
  [COPY_DATA]: async (ctx, id, data) => {
    const req = decodeCopyDataRequest(data);
    const src = ctx.handles.file(req.readHandle).file;
    const dst = ctx.handles.file(req.writeHandle).file;
    const buf = new Uint8Array(COPY_CHUNK);
    let done = 0;
    while (req.readLength === 0 || done < req.readLength) {
      const want = req.readLength === 0 ? buf.length : Math.min(buf.length, req.readLength - done);
      const n = await src.read(buf.subarray(0, want), req.readOffset + done);
      if (n === 0) break;
      await dst.write(buf.subarray(0, n), req.writeOffset + done);
      done += n;
    }
    return ok(id);
  },
};

/** What VERSION announces, with OpenSSH's version strings. */
export const SERVER_EXTENSIONS: readonly ExtensionPair[] = [
  { name: POSIX_RENAME, data: "1" },
  { name: STATVFS, data: "2" },
  { name: FSTATVFS, data: "2" },
  { name: HARDLINK, data: "1" },
  { name: FSYNC, data: "1" },
  { name: LSETSTAT, data: "1" },
  { name: LIMITS, data: "1" },
  { name: EXPAND_PATH, data: "1" },
  { name: COPY_DATA, data: "1" },
  { name: HOME_DIRECTORY, data: "1" },
];

export function extended(ctx: ServerContext, r: ExtendedPacket): Promise<Uint8Array> {
  const handler = Object.hasOwn(HANDLERS, r.request) ? HANDLERS[r.request] : undefined;
  if (!handler) throw new SftpError("OP_UNSUPPORTED", `unsupported extension ${r.request}`);
  return handler(ctx, r.id, r.data);
}

async function statvfsReply(id: number, host: string): Promise<Uint8Array> {
  const s = await fs.statvfs(host);
  const b = (n: number) => BigInt(Math.max(0, Math.floor(n)));
  return encodeStatvfsReply(id, {
    bsize: b(s.bsize), frsize: b(s.bsize), blocks: b(s.blocks), bfree: b(s.bfree), bavail: b(s.bavail),
    files: b(s.files), ffree: b(s.ffree), favail: b(s.ffree), fsid: 0n, flag: 0n, namemax: 255n,
  });
}
