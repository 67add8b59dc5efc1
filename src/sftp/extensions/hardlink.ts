/**
 * "hardlink@openssh.com" (OpenSSH PROTOCOL §4.5): link(oldpath, newpath).
 * Request: string oldpath, string newpath. Reply: STATUS.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { buildExtended } from "../packets/extended.js";
import { readText, wireString } from "../packets/wire.js";

export const HARDLINK = "hardlink@openssh.com";

/** A new name `newPath` for the existing file `oldPath`. */
export interface HardlinkRequest {
  oldPath: string;
  oldPathBytes?: Uint8Array;
  newPath: string;
  newPathBytes?: Uint8Array;
}

export function encodeHardlinkRequest(id: number, f: HardlinkRequest): Uint8Array {
  const a = wireString(f.oldPath, f.oldPathBytes);
  const b = wireString(f.newPath, f.newPathBytes);
  return buildExtended(id, HARDLINK, (w) => w.string(a).string(b), 8 + a.length + b.length);
}

export function decodeHardlinkRequest(data: Uint8Array): HardlinkRequest {
  const r = new SshReader(data, HARDLINK);
  const a = readText(r);
  const b = readText(r);
  r.end();
  const req: HardlinkRequest = { oldPath: a.text, newPath: b.text };
  if (a.bytes) req.oldPathBytes = a.bytes;
  if (b.bytes) req.newPathBytes = b.bytes;
  return req;
}
