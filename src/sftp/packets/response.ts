/**
 * Server replies (draft §7): STATUS, HANDLE, DATA, NAME, ATTRS.
 *
 * `encode*(id, fields)` return the whole framed packet; `decode*(body)` take the bytes after the
 * type byte. Handles and filename bytes are copies; DATA `data` is a view into the input.
 */
import { ProtocolError } from "../../errors.js";
import { uninitialized } from "../../platform/memory.js";
import { SshReader } from "../../ssh/wire/reader.js";
import { type Attrs, readAttrs, writeAttrs } from "../attrs.js";
import { PacketType } from "../constants.js";
import { type Fields, finishPacket, readCopy, readLossy, readText, startPacket, u32, wireString } from "./wire.js";

export interface StatusPacket {
  type: typeof PacketType.STATUS;
  id: number;
  /** StatusCode; servers following later drafts may send codes above 8. */
  code: number;
  message: string;
  /** RFC 1766 language tag of `message`, usually "" or "en". */
  lang: string;
}

export interface HandlePacket {
  type: typeof PacketType.HANDLE;
  id: number;
  handle: Uint8Array;
}

export interface DataPacket {
  type: typeof PacketType.DATA;
  id: number;
  data: Uint8Array;
}

/** One NAME entry. `longname` is an `ls -l` style display line with no defined format. */
export interface NameEntry {
  filename: string;
  /** Exact wire bytes of `filename` when they are not valid UTF-8; sent instead when set. */
  filenameBytes?: Uint8Array;
  longname: string;
  attrs: Attrs;
}

export interface NamePacket {
  type: typeof PacketType.NAME;
  id: number;
  entries: NameEntry[];
}

export interface AttrsPacket {
  type: typeof PacketType.ATTRS;
  id: number;
  attrs: Attrs;
}

/** Smallest NAME entry: empty filename, empty longname, attrs with no flags. */
const MIN_NAME_ENTRY = 4 + 4 + 4;

/** STATUS: code, message, language tag. `message` and `lang` default to "". */
export function encodeStatus(
  id: number,
  f: { code: number; message?: string | undefined; lang?: string | undefined },
): Uint8Array {
  const w = startPacket(PacketType.STATUS, id, 32 + (f.message?.length ?? 0) * 3);
  w.uint32(u32(f.code, "status code"))
    .string(f.message ?? "")
    .string(f.lang ?? "");
  return finishPacket(w);
}

/**
 * Decodes STATUS. Some old servers end the packet after the code, or after the message; the
 * missing fields read as "". Message text is decoded leniently (U+FFFD for bad UTF-8).
 */
export function decodeStatus(body: Uint8Array): StatusPacket {
  const r = new SshReader(body, "SFTP STATUS");
  const id = r.uint32();
  const code = r.uint32();
  const message = r.remaining > 0 ? readLossy(r) : "";
  const lang = r.remaining > 0 ? readLossy(r) : "";
  r.end();
  return { type: PacketType.STATUS, id, code, message, lang };
}

export function encodeHandle(id: number, f: Fields<HandlePacket>): Uint8Array {
  const w = startPacket(PacketType.HANDLE, id, 8 + f.handle.length);
  w.string(f.handle);
  return finishPacket(w);
}
export function decodeHandle(body: Uint8Array): HandlePacket {
  const r = new SshReader(body, "SFTP HANDLE");
  const id = r.uint32();
  const handle = readCopy(r);
  r.end();
  return { type: PacketType.HANDLE, id, handle };
}

/** DATA, built in one buffer of the exact size so large data is copied once. */
export function encodeData(id: number, f: Fields<DataPacket>): Uint8Array {
  const packet = dataPacketBuffer(f.data.length);
  packet.set(f.data, DATA_HEADER_LENGTH);
  return finishDataPacket(packet, id, f.data.length);
}

/** Bytes in front of a DATA packet's data: length, type, request id, the data's length. */
export const DATA_HEADER_LENGTH = 13;

/**
 * Room for a DATA packet of up to `capacity` bytes of data, to be filled in place from
 * `DATA_HEADER_LENGTH` on (a server reads the file straight into it) and then finished. Not
 * zeroed (platform/memory.ts): finishDataPacket's view covers only the header and the n bytes
 * written, and nothing else of it is ever sent.
 */
export function dataPacketBuffer(capacity: number): Uint8Array {
  return uninitialized(DATA_HEADER_LENGTH + capacity);
}

/** Writes the header for `n` bytes of data already in place; returns the packet (a view). */
export function finishDataPacket(packet: Uint8Array, id: number, n: number): Uint8Array {
  u32(id, "request id");
  const v = new DataView(packet.buffer, packet.byteOffset, DATA_HEADER_LENGTH);
  v.setUint32(0, DATA_HEADER_LENGTH - 4 + n);
  packet[4] = PacketType.DATA;
  v.setUint32(5, id);
  v.setUint32(9, n);
  return packet.subarray(0, DATA_HEADER_LENGTH + n);
}
export function decodeData(body: Uint8Array): DataPacket {
  const r = new SshReader(body, "SFTP DATA");
  const id = r.uint32();
  const data = r.string();
  r.end();
  return { type: PacketType.DATA, id, data };
}

export function encodeName(id: number, f: Fields<NamePacket>): Uint8Array {
  const w = startPacket(PacketType.NAME, id, 8 + f.entries.length * 96);
  w.uint32(f.entries.length);
  for (const e of f.entries) {
    w.string(wireString(e.filename, e.filenameBytes)).string(e.longname);
    writeAttrs(w, e.attrs);
  }
  return finishPacket(w);
}

/** Decodes NAME; the count is checked against the bytes left before any entry is read. */
export function decodeName(body: Uint8Array): NamePacket {
  const r = new SshReader(body, "SFTP NAME");
  const id = r.uint32();
  const count = r.uint32();
  if (count > r.remaining / MIN_NAME_ENTRY) {
    throw new ProtocolError(`SFTP NAME claims ${count} entries in ${r.remaining} bytes`);
  }
  const entries: NameEntry[] = [];
  for (let i = 0; i < count; i++) {
    const name = readText(r);
    const longname = readLossy(r);
    const attrs = readAttrs(r);
    entries.push(
      name.bytes
        ? { filename: name.text, filenameBytes: name.bytes, longname, attrs }
        : { filename: name.text, longname, attrs },
    );
  }
  r.end();
  return { type: PacketType.NAME, id, entries };
}

export function encodeAttrsReply(id: number, f: Fields<AttrsPacket>): Uint8Array {
  const w = startPacket(PacketType.ATTRS, id, 48);
  writeAttrs(w, f.attrs);
  return finishPacket(w);
}
export function decodeAttrsReply(body: Uint8Array): AttrsPacket {
  const r = new SshReader(body, "SFTP ATTRS");
  const id = r.uint32();
  const attrs = readAttrs(r);
  r.end();
  return { type: PacketType.ATTRS, id, attrs };
}
