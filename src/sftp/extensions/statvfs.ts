/**
 * "statvfs@openssh.com" and "fstatvfs@openssh.com" (OpenSSH PROTOCOL §4.4): statvfs(3) of the
 * file system holding a path or an open handle. Request: string path / string handle.
 * Reply: EXTENDED_REPLY with eleven uint64 fields, kept as bigint (f_fsid is often above 2^53).
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { buildExtended, buildExtendedReply } from "../packets/extended.js";
import { pathFields } from "../packets/path.js";
import { readCopy, readText, wireString } from "../packets/wire.js";

export const STATVFS = "statvfs@openssh.com";
export const FSTATVFS = "fstatvfs@openssh.com";

/** Bits of `flag`. */
export const ST_RDONLY = 0x1;
export const ST_NOSUID = 0x2;

export interface StatvfsRequest {
  path: string;
  pathBytes?: Uint8Array;
}

export interface FstatvfsRequest {
  handle: Uint8Array;
}

/** The reply, in wire order (struct statvfs without the f_ prefixes). */
export interface StatvfsReply {
  /** File system block size. */
  bsize: bigint;
  /** Fundamental block size; `blocks`, `bfree`, `bavail` count these. */
  frsize: bigint;
  blocks: bigint;
  bfree: bigint;
  /** Free blocks available to unprivileged users. */
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  favail: bigint;
  fsid: bigint;
  /** ST_RDONLY | ST_NOSUID bits. */
  flag: bigint;
  /** Longest file name. */
  namemax: bigint;
}

const FIELDS = [
  "bsize",
  "frsize",
  "blocks",
  "bfree",
  "bavail",
  "files",
  "ffree",
  "favail",
  "fsid",
  "flag",
  "namemax",
] as const satisfies readonly (keyof StatvfsReply)[];

export function encodeStatvfsRequest(id: number, f: StatvfsRequest): Uint8Array {
  const path = wireString(f.path, f.pathBytes);
  return buildExtended(id, STATVFS, (w) => w.string(path), 4 + path.length);
}

export function decodeStatvfsRequest(data: Uint8Array): StatvfsRequest {
  const r = new SshReader(data, STATVFS);
  const path = readText(r);
  r.end();
  return pathFields(path);
}

export function encodeFstatvfsRequest(id: number, f: FstatvfsRequest): Uint8Array {
  return buildExtended(id, FSTATVFS, (w) => w.string(f.handle), 4 + f.handle.length);
}

export function decodeFstatvfsRequest(data: Uint8Array): FstatvfsRequest {
  const r = new SshReader(data, FSTATVFS);
  const handle = readCopy(r);
  r.end();
  return { handle };
}

/** The EXTENDED_REPLY to either request. Values are written modulo 2^64. */
export function encodeStatvfsReply(id: number, f: StatvfsReply): Uint8Array {
  return buildExtendedReply(id, (w) => FIELDS.forEach((k) => w.uint64(f[k])), 88);
}

/** Decodes the EXTENDED_REPLY data (after the id). */
export function decodeStatvfsReply(data: Uint8Array): StatvfsReply {
  const r = new SshReader(data, "statvfs@openssh.com reply");
  const out = {} as StatvfsReply;
  for (const k of FIELDS) out[k] = r.uint64();
  r.end();
  return out;
}
