/**
 * "copy-data" (OpenSSH PROTOCOL §4.10, from draft-ietf-secsh-filexfer-extensions-00 §7): the
 * server copies bytes between two open handles without them crossing the connection.
 * Request: string read-from-handle, uint64 read-from-offset, uint64 read-data-length,
 * string write-to-handle, uint64 write-to-offset. Reply: STATUS.
 * A `readLength` of 0 copies until end of file. The two handles may be the same when the
 * ranges do not overlap.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { buildExtended } from "../packets/extended.js";
import { readCopy, readSafeU64, u64 } from "../packets/wire.js";

export const COPY_DATA = "copy-data";

export interface CopyDataRequest {
  readHandle: Uint8Array;
  readOffset: number;
  readLength: number;
  writeHandle: Uint8Array;
  writeOffset: number;
}

export function encodeCopyDataRequest(id: number, f: CopyDataRequest): Uint8Array {
  const readOffset = u64(f.readOffset, "readOffset");
  const readLength = u64(f.readLength, "readLength");
  const writeOffset = u64(f.writeOffset, "writeOffset");
  return buildExtended(
    id,
    COPY_DATA,
    (w) => w.string(f.readHandle).uint64(readOffset).uint64(readLength).string(f.writeHandle).uint64(writeOffset),
    32 + f.readHandle.length + f.writeHandle.length,
  );
}

export function decodeCopyDataRequest(data: Uint8Array): CopyDataRequest {
  const r = new SshReader(data, COPY_DATA);
  const readHandle = readCopy(r);
  const readOffset = readSafeU64(r, "read-from-offset");
  const readLength = readSafeU64(r, "read-data-length");
  const writeHandle = readCopy(r);
  const writeOffset = readSafeU64(r, "write-to-offset");
  r.end();
  return { readHandle, readOffset, readLength, writeHandle, writeOffset };
}
