/**
 * What each SFTP request touches, for the session's scheduler (request-order.ts): requests on
 * a file handle touch a byte range of that file, keyed by the file's checked host path so that
 * two handles on one file are ordered against each other too (draft-ietf-secsh-filexfer-02
 * §6.1 speaks of requests "relating to the same file", not to the same handle).
 */
import { PacketType } from "../constants.js";
import type { SftpRequest } from "../packet.js";
import type { HandleTable } from "./handles.js";
import { BARRIER, type Access } from "./request-order.js";

type Request = Exclude<SftpRequest, { type: typeof PacketType.INIT }>;

export function accessOf(r: Request, handles: HandleTable): Access {
  switch (r.type) {
    case PacketType.READ: return onHandle(handles, r.handle, r.offset, r.offset + r.length, false);
    case PacketType.WRITE: return onHandle(handles, r.handle, r.offset, r.offset + r.data.length, true);
    case PacketType.FSTAT: return onHandle(handles, r.handle, 0, Infinity, false);
    // CLOSE must follow what is pending on the file (§6.3: the handle is invalid once it is
    // sent, so later requests on it fail); FSETSTAT may truncate; a listing is read in order.
    case PacketType.CLOSE:
    case PacketType.FSETSTAT:
    case PacketType.READDIR: return onHandle(handles, r.handle, 0, Infinity, true);
    default: return BARRIER;
  }
}

function onHandle(handles: HandleTable, handle: Uint8Array, start: number, end: number, write: boolean): Access {
  const h = handles.find(handle);
  // Not open now: maybe a handle an earlier, unfinished request will open or close. Behind a
  // barrier the request sees the table as it would one request at a time.
  if (!h) return BARRIER;
  // O_APPEND writes land at the end, wherever their offset says: they keep their order.
  if (write && h.kind === "file" && h.append) return { kind: "file", key: h.host, start: 0, end: Infinity, write };
  return { kind: "file", key: h.host, start, end, write };
}
