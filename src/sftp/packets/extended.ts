/**
 * SSH_FXP_EXTENDED and SSH_FXP_EXTENDED_REPLY (draft §8): a named request with request-specific
 * data, and a reply whose data only the requester can interpret. The codecs here carry the data
 * as raw bytes; src/sftp/extensions/ has one file per OpenSSH extension that encodes and decodes
 * those bytes. Decoded `data` is a view into the input.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import type { SshWriter } from "../../ssh/wire/writer.js";
import { PacketType } from "../constants.js";
import { type Fields, finishPacket, readLossy, startPacket } from "./wire.js";

export interface ExtendedPacket {
  type: typeof PacketType.EXTENDED;
  id: number;
  /** The extension name, e.g. "posix-rename@openssh.com". */
  request: string;
  /** Everything after the name: the extension's own fields. */
  data: Uint8Array;
}

export interface ExtendedReplyPacket {
  type: typeof PacketType.EXTENDED_REPLY;
  id: number;
  data: Uint8Array;
}

/**
 * Builds an EXTENDED packet, letting `body` append the extension's fields straight into the
 * packet buffer (used by the extension codecs).
 */
export function buildExtended(id: number, request: string, body: (w: SshWriter) => void, capacity = 64): Uint8Array {
  const w = startPacket(PacketType.EXTENDED, id, capacity + 4 + request.length);
  w.string(request);
  body(w);
  return finishPacket(w);
}

/** Builds an EXTENDED_REPLY packet whose data `body` appends in place. */
export function buildExtendedReply(id: number, body: (w: SshWriter) => void, capacity = 64): Uint8Array {
  const w = startPacket(PacketType.EXTENDED_REPLY, id, capacity);
  body(w);
  return finishPacket(w);
}

export function encodeExtended(id: number, f: Fields<ExtendedPacket>): Uint8Array {
  return buildExtended(id, f.request, (w) => w.raw(f.data), f.data.length);
}
export function decodeExtended(body: Uint8Array): ExtendedPacket {
  const r = new SshReader(body, "SFTP EXTENDED");
  const id = r.uint32();
  const request = readLossy(r);
  return { type: PacketType.EXTENDED, id, request, data: r.rest() };
}

export function encodeExtendedReply(id: number, f: Fields<ExtendedReplyPacket>): Uint8Array {
  return buildExtendedReply(id, (w) => w.raw(f.data), f.data.length);
}
export function decodeExtendedReply(body: Uint8Array): ExtendedReplyPacket {
  const r = new SshReader(body, "SFTP EXTENDED_REPLY");
  const id = r.uint32();
  return { type: PacketType.EXTENDED_REPLY, id, data: r.rest() };
}
