/**
 * Requests naming a path (draft §6.3-§6.10): OPEN, LSTAT, STAT, SETSTAT, OPENDIR, REMOVE, MKDIR,
 * RMDIR, REALPATH, RENAME, READLINK, SYMLINK.
 *
 * Paths are bytes on the wire. Each path field is a string plus an optional `…Bytes` twin: when
 * the twin is set it is sent verbatim (so a latin-1 name read from a directory can be addressed
 * again), otherwise the string is sent as UTF-8. Decoding sets the twin only for bytes that are
 * not valid UTF-8 (see WireText).
 *
 * SYMLINK: OpenSSH's server reads its two paths in the opposite order to the draft, and every
 * deployed server follows OpenSSH, so `encodeSymlink` writes targetpath first, then linkpath
 * (OpenSSH PROTOCOL §4.1; sftp-server.c process_symlink). The draft's §6.10 order is
 * linkpath, targetpath.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { type Attrs, readAttrs, writeAttrs } from "../attrs.js";
import { PacketType } from "../constants.js";
import { type Fields, type WireText, finishPacket, readText, startPacket, u32, wireString } from "./wire.js";

interface PathPacket<T extends number> {
  type: T;
  id: number;
  path: string;
  /** Exact wire bytes of `path` when it is not UTF-8; sent instead of `path` when set. */
  pathBytes?: Uint8Array;
}

interface PathAttrsPacket<T extends number> extends PathPacket<T> {
  attrs: Attrs;
}

export type LstatPacket = PathPacket<typeof PacketType.LSTAT>;
export type StatPacket = PathPacket<typeof PacketType.STAT>;
export type OpendirPacket = PathPacket<typeof PacketType.OPENDIR>;
export type RemovePacket = PathPacket<typeof PacketType.REMOVE>;
export type RmdirPacket = PathPacket<typeof PacketType.RMDIR>;
export type RealpathPacket = PathPacket<typeof PacketType.REALPATH>;
export type ReadlinkPacket = PathPacket<typeof PacketType.READLINK>;
export type SetstatPacket = PathAttrsPacket<typeof PacketType.SETSTAT>;
export type MkdirPacket = PathAttrsPacket<typeof PacketType.MKDIR>;

export interface OpenPacket extends PathAttrsPacket<typeof PacketType.OPEN> {
  /** OpenFlags bits. */
  pflags: number;
}

export interface RenamePacket {
  type: typeof PacketType.RENAME;
  id: number;
  oldPath: string;
  oldPathBytes?: Uint8Array;
  newPath: string;
  newPathBytes?: Uint8Array;
}

/** A symlink at `linkPath` pointing to `targetPath`. Wire order is OpenSSH's: target, link. */
export interface SymlinkPacket {
  type: typeof PacketType.SYMLINK;
  id: number;
  targetPath: string;
  targetPathBytes?: Uint8Array;
  linkPath: string;
  linkPathBytes?: Uint8Array;
}

/** `{ path, pathBytes? }` from wire text, without an undefined `pathBytes` key. */
export function pathFields(t: WireText): { path: string; pathBytes?: Uint8Array } {
  return t.bytes ? { path: t.text, pathBytes: t.bytes } : { path: t.text };
}

function encodePath(type: number, id: number, f: Fields<PathPacket<number>>, attrs?: Attrs): Uint8Array {
  const path = wireString(f.path, f.pathBytes);
  const w = startPacket(type, id, 8 + path.length + (attrs ? 32 : 0));
  w.string(path);
  if (attrs) writeAttrs(w, attrs);
  return finishPacket(w);
}

function decodePath<T extends number>(type: T, body: Uint8Array, what: string): PathPacket<T> {
  const r = new SshReader(body, what);
  const id = r.uint32();
  const path = readText(r);
  r.end();
  return { type, id, ...pathFields(path) };
}

function decodePathAttrs<T extends number>(type: T, body: Uint8Array, what: string): PathAttrsPacket<T> {
  const r = new SshReader(body, what);
  const id = r.uint32();
  const path = readText(r);
  const attrs = readAttrs(r);
  r.end();
  return { type, id, ...pathFields(path), attrs };
}

export function encodeLstat(id: number, f: Fields<LstatPacket>): Uint8Array {
  return encodePath(PacketType.LSTAT, id, f);
}
export function decodeLstat(body: Uint8Array): LstatPacket {
  return decodePath(PacketType.LSTAT, body, "SFTP LSTAT");
}

export function encodeStat(id: number, f: Fields<StatPacket>): Uint8Array {
  return encodePath(PacketType.STAT, id, f);
}
export function decodeStat(body: Uint8Array): StatPacket {
  return decodePath(PacketType.STAT, body, "SFTP STAT");
}

export function encodeOpendir(id: number, f: Fields<OpendirPacket>): Uint8Array {
  return encodePath(PacketType.OPENDIR, id, f);
}
export function decodeOpendir(body: Uint8Array): OpendirPacket {
  return decodePath(PacketType.OPENDIR, body, "SFTP OPENDIR");
}

export function encodeRemove(id: number, f: Fields<RemovePacket>): Uint8Array {
  return encodePath(PacketType.REMOVE, id, f);
}
export function decodeRemove(body: Uint8Array): RemovePacket {
  return decodePath(PacketType.REMOVE, body, "SFTP REMOVE");
}

export function encodeRmdir(id: number, f: Fields<RmdirPacket>): Uint8Array {
  return encodePath(PacketType.RMDIR, id, f);
}
export function decodeRmdir(body: Uint8Array): RmdirPacket {
  return decodePath(PacketType.RMDIR, body, "SFTP RMDIR");
}

export function encodeRealpath(id: number, f: Fields<RealpathPacket>): Uint8Array {
  return encodePath(PacketType.REALPATH, id, f);
}
export function decodeRealpath(body: Uint8Array): RealpathPacket {
  return decodePath(PacketType.REALPATH, body, "SFTP REALPATH");
}

export function encodeReadlink(id: number, f: Fields<ReadlinkPacket>): Uint8Array {
  return encodePath(PacketType.READLINK, id, f);
}
export function decodeReadlink(body: Uint8Array): ReadlinkPacket {
  return decodePath(PacketType.READLINK, body, "SFTP READLINK");
}

export function encodeSetstat(id: number, f: Fields<SetstatPacket>): Uint8Array {
  return encodePath(PacketType.SETSTAT, id, f, f.attrs);
}
export function decodeSetstat(body: Uint8Array): SetstatPacket {
  return decodePathAttrs(PacketType.SETSTAT, body, "SFTP SETSTAT");
}

export function encodeMkdir(id: number, f: Fields<MkdirPacket>): Uint8Array {
  return encodePath(PacketType.MKDIR, id, f, f.attrs);
}
export function decodeMkdir(body: Uint8Array): MkdirPacket {
  return decodePathAttrs(PacketType.MKDIR, body, "SFTP MKDIR");
}

/** OPEN: path, pflags, attrs (draft §6.3). */
export function encodeOpen(id: number, f: Fields<OpenPacket>): Uint8Array {
  const path = wireString(f.path, f.pathBytes);
  const w = startPacket(PacketType.OPEN, id, 48 + path.length);
  w.string(path).uint32(u32(f.pflags, "pflags"));
  writeAttrs(w, f.attrs);
  return finishPacket(w);
}
export function decodeOpen(body: Uint8Array): OpenPacket {
  const r = new SshReader(body, "SFTP OPEN");
  const id = r.uint32();
  const path = readText(r);
  const pflags = r.uint32();
  const attrs = readAttrs(r);
  r.end();
  return { type: PacketType.OPEN, id, ...pathFields(path), pflags, attrs };
}

function encodeTwoPaths(type: number, id: number, a: Uint8Array | string, b: Uint8Array | string): Uint8Array {
  const w = startPacket(type, id, 12 + a.length + b.length);
  w.string(a).string(b);
  return finishPacket(w);
}

function decodeTwoPaths(body: Uint8Array, what: string): [number, WireText, WireText] {
  const r = new SshReader(body, what);
  const id = r.uint32();
  const a = readText(r);
  const b = readText(r);
  r.end();
  return [id, a, b];
}

/** RENAME: oldpath, newpath (draft §6.5). OpenSSH's server refuses to replace an existing file. */
export function encodeRename(id: number, f: Fields<RenamePacket>): Uint8Array {
  return encodeTwoPaths(PacketType.RENAME, id, wireString(f.oldPath, f.oldPathBytes), wireString(f.newPath, f.newPathBytes));
}
export function decodeRename(body: Uint8Array): RenamePacket {
  const [id, a, b] = decodeTwoPaths(body, "SFTP RENAME");
  const p: RenamePacket = { type: PacketType.RENAME, id, oldPath: a.text, newPath: b.text };
  if (a.bytes) p.oldPathBytes = a.bytes;
  if (b.bytes) p.newPathBytes = b.bytes;
  return p;
}

/** SYMLINK in OpenSSH's order: targetpath, then linkpath (see the file comment). */
export function encodeSymlink(id: number, f: Fields<SymlinkPacket>): Uint8Array {
  return encodeTwoPaths(PacketType.SYMLINK, id, wireString(f.targetPath, f.targetPathBytes), wireString(f.linkPath, f.linkPathBytes));
}
export function decodeSymlink(body: Uint8Array): SymlinkPacket {
  const [id, target, link] = decodeTwoPaths(body, "SFTP SYMLINK");
  const p: SymlinkPacket = { type: PacketType.SYMLINK, id, targetPath: target.text, linkPath: link.text };
  if (target.bytes) p.targetPathBytes = target.bytes;
  if (link.bytes) p.linkPathBytes = link.bytes;
  return p;
}
