/**
 * File attributes (draft-ietf-secsh-filexfer-02 §5) and the `Stats` view over them.
 *
 * Every field is optional on the wire; a missing field is `undefined`, never 0 or false.
 * `size` is a uint64 on the wire but a number here: sizes above 2^53-1 (8 PiB) are rejected as a
 * ProtocolError rather than rounded, since no real file is that large.
 */
import { SshError, ProtocolError } from "../errors.js";
import { SshReader } from "../ssh/wire/reader.js";
import { SshWriter } from "../ssh/wire/writer.js";
import { AttrFlags, FileType } from "./constants.js";
import { readLossy, readSafeU64, u32, u64 } from "./packets/wire.js";

/** One `extended_type`/`extended_data` pair of ATTRS (§5). */
export interface ExtendedAttr {
  type: string;
  data: Uint8Array;
}

/** An ATTRS structure. Set only the fields to send; decoding sets only the fields present. */
export interface Attrs {
  size?: number;
  /** `uid` and `gid` travel together (SSH_FILEXFER_ATTR_UIDGID): set both or neither. */
  uid?: number;
  gid?: number;
  /** The full st_mode: file type bits (FileType) and permission bits. */
  permissions?: number;
  /** Seconds since the epoch; `atime` and `mtime` travel together (ACMODTIME). */
  atime?: number;
  mtime?: number;
  extended?: ExtendedAttr[];
}

/** Smallest extended pair on the wire: two empty strings. */
const MIN_EXTENDED_PAIR = 8;

function pairError(a: string, b: string): SshError {
  return new SshError("INVALID_ARGUMENT", `SFTP attrs: ${a} and ${b} are sent together; set both or neither`);
}

/** Appends an ATTRS structure. Throws SshError INVALID_ARGUMENT for out-of-range or half pairs. */
export function writeAttrs(w: SshWriter, a: Attrs): void {
  const hasIds = a.uid !== undefined || a.gid !== undefined;
  const hasTimes = a.atime !== undefined || a.mtime !== undefined;
  if (hasIds && (a.uid === undefined || a.gid === undefined)) throw pairError("uid", "gid");
  if (hasTimes && (a.atime === undefined || a.mtime === undefined)) throw pairError("atime", "mtime");
  let flags = 0;
  if (a.size !== undefined) flags |= AttrFlags.SIZE;
  if (hasIds) flags |= AttrFlags.UIDGID;
  if (a.permissions !== undefined) flags |= AttrFlags.PERMISSIONS;
  if (hasTimes) flags |= AttrFlags.ACMODTIME;
  if (a.extended !== undefined) flags |= AttrFlags.EXTENDED;
  w.uint32(flags >>> 0);
  if (a.size !== undefined) w.uint64(u64(a.size, "size"));
  if (hasIds) w.uint32(u32(a.uid!, "uid")).uint32(u32(a.gid!, "gid"));
  if (a.permissions !== undefined) w.uint32(u32(a.permissions, "permissions"));
  if (hasTimes) w.uint32(u32(a.atime!, "atime")).uint32(u32(a.mtime!, "mtime"));
  if (a.extended !== undefined) {
    w.uint32(a.extended.length);
    for (const e of a.extended) w.string(e.type).string(e.data);
  }
}

/**
 * Reads an ATTRS structure. Unknown flag bits are ignored, as OpenSSH does. The extended count is
 * checked against the bytes left before anything is allocated for it.
 */
export function readAttrs(r: SshReader): Attrs {
  const flags = r.uint32();
  const a: Attrs = {};
  if (flags & AttrFlags.SIZE) a.size = readSafeU64(r, "size");
  if (flags & AttrFlags.UIDGID) {
    a.uid = r.uint32();
    a.gid = r.uint32();
  }
  if (flags & AttrFlags.PERMISSIONS) a.permissions = r.uint32();
  if (flags & AttrFlags.ACMODTIME) {
    a.atime = r.uint32();
    a.mtime = r.uint32();
  }
  if (flags & AttrFlags.EXTENDED) {
    const count = r.uint32();
    if (count > r.remaining / MIN_EXTENDED_PAIR) {
      throw new ProtocolError(`SFTP attrs in ${r.what} claim ${count} extended pairs in ${r.remaining} bytes`);
    }
    const ext: ExtendedAttr[] = [];
    for (let i = 0; i < count; i++) ext.push({ type: readLossy(r), data: r.string().slice() });
    a.extended = ext;
  }
  return a;
}

/** An ATTRS structure on its own (the body of the ATTRS reply after the id). */
export function encodeAttrs(a: Attrs): Uint8Array {
  const w = new SshWriter(32);
  writeAttrs(w, a);
  return w.finish();
}

/** Decodes a standalone ATTRS structure, rejecting trailing bytes. */
export function decodeAttrs(bytes: Uint8Array): Attrs {
  const r = new SshReader(bytes, "SFTP attrs");
  const a = readAttrs(r);
  r.end();
  return a;
}

/**
 * A read-only view of Attrs in the shape of fs.Stats. Fields the server did not send are
 * `undefined`; the `is*()` tests are false when `mode` is unknown, so check `mode !== undefined`
 * before concluding that something is not a directory.
 */
export class Stats {
  readonly size: number | undefined;
  readonly mode: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  /** Seconds since the epoch. */
  readonly atime: number | undefined;
  readonly mtime: number | undefined;
  readonly extended: readonly ExtendedAttr[] | undefined;

  constructor(attrs: Attrs) {
    this.size = attrs.size;
    this.mode = attrs.permissions;
    this.uid = attrs.uid;
    this.gid = attrs.gid;
    this.atime = attrs.atime;
    this.mtime = attrs.mtime;
    this.extended = attrs.extended;
  }

  private type(bits: number): boolean {
    return this.mode !== undefined && (this.mode & FileType.S_IFMT) === bits;
  }

  isFile(): boolean {
    return this.type(FileType.S_IFREG);
  }
  isDirectory(): boolean {
    return this.type(FileType.S_IFDIR);
  }
  isSymbolicLink(): boolean {
    return this.type(FileType.S_IFLNK);
  }
  isFIFO(): boolean {
    return this.type(FileType.S_IFIFO);
  }
  isSocket(): boolean {
    return this.type(FileType.S_IFSOCK);
  }
  isBlockDevice(): boolean {
    return this.type(FileType.S_IFBLK);
  }
  isCharacterDevice(): boolean {
    return this.type(FileType.S_IFCHR);
  }
}
