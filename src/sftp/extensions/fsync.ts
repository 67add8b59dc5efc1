/**
 * "fsync@openssh.com" (OpenSSH PROTOCOL §4.6): fsync(2) on an open file handle.
 * Request: string handle. Reply: STATUS.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { buildExtended } from "../packets/extended.js";
import { readCopy } from "../packets/wire.js";

export const FSYNC = "fsync@openssh.com";

export interface FsyncRequest {
  handle: Uint8Array;
}

export function encodeFsyncRequest(id: number, f: FsyncRequest): Uint8Array {
  return buildExtended(id, FSYNC, (w) => w.string(f.handle), 4 + f.handle.length);
}

export function decodeFsyncRequest(data: Uint8Array): FsyncRequest {
  const r = new SshReader(data, FSYNC);
  const handle = readCopy(r);
  r.end();
  return { handle };
}
