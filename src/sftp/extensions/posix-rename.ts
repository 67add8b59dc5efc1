/**
 * "posix-rename@openssh.com" (OpenSSH PROTOCOL §4.3): rename(2) semantics, replacing an existing
 * `newPath` atomically, where v3 RENAME refuses to. Request: string oldpath, string newpath.
 * Reply: STATUS.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { buildExtended } from "../packets/extended.js";
import { readText, wireString } from "../packets/wire.js";

export const POSIX_RENAME = "posix-rename@openssh.com";

/** Paths as in RenamePacket: `…Bytes` twins carry non-UTF-8 names exactly. */
export interface PosixRenameRequest {
  oldPath: string;
  oldPathBytes?: Uint8Array;
  newPath: string;
  newPathBytes?: Uint8Array;
}

export function encodePosixRenameRequest(id: number, f: PosixRenameRequest): Uint8Array {
  const a = wireString(f.oldPath, f.oldPathBytes);
  const b = wireString(f.newPath, f.newPathBytes);
  return buildExtended(id, POSIX_RENAME, (w) => w.string(a).string(b), 8 + a.length + b.length);
}

/** Decodes the EXTENDED request data (after the name). */
export function decodePosixRenameRequest(data: Uint8Array): PosixRenameRequest {
  const r = new SshReader(data, POSIX_RENAME);
  const a = readText(r);
  const b = readText(r);
  r.end();
  const req: PosixRenameRequest = { oldPath: a.text, newPath: b.text };
  if (a.bytes) req.oldPathBytes = a.bytes;
  if (b.bytes) req.newPathBytes = b.bytes;
  return req;
}
