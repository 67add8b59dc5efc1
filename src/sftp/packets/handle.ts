/**
 * Requests on an open handle (draft §6.3-§6.8): CLOSE, READ, WRITE, FSTAT, FSETSTAT, READDIR.
 *
 * `encode*(id, fields)` return the whole framed packet (uint32 length, type, request id, fields);
 * `decode*(body)` take the bytes after the type byte. Decoded handles are copies; WRITE `data`
 * is a view into the input (no copy), valid as long as the caller keeps the input intact.
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { type Attrs, readAttrs, writeAttrs } from "../attrs.js";
import { PacketType } from "../constants.js";
import { type Fields, finishPacket, readCopy, readSafeU64, startPacket, u32, u64 } from "./wire.js";
import { smallBuffer } from "../../util/small-buffers.js";

interface HandlePacket<T extends number> {
  type: T;
  id: number;
  handle: Uint8Array;
}

export type ClosePacket = HandlePacket<typeof PacketType.CLOSE>;
export type FstatPacket = HandlePacket<typeof PacketType.FSTAT>;
export type ReaddirPacket = HandlePacket<typeof PacketType.READDIR>;

export interface ReadPacket {
  type: typeof PacketType.READ;
  id: number;
  handle: Uint8Array;
  offset: number;
  /** Bytes wanted; the server may return fewer. */
  length: number;
}

export interface WritePacket {
  type: typeof PacketType.WRITE;
  id: number;
  handle: Uint8Array;
  offset: number;
  data: Uint8Array;
}

export interface FsetstatPacket {
  type: typeof PacketType.FSETSTAT;
  id: number;
  handle: Uint8Array;
  attrs: Attrs;
}

function encodeHandleOnly(type: number, id: number, handle: Uint8Array): Uint8Array {
  const w = startPacket(type, id, 8 + handle.length);
  w.string(handle);
  return finishPacket(w);
}

function decodeHandleOnly<T extends number>(type: T, body: Uint8Array, what: string): HandlePacket<T> {
  const r = new SshReader(body, what);
  const id = r.uint32();
  const handle = readCopy(r);
  r.end();
  return { type, id, handle };
}

export function encodeClose(id: number, f: Fields<ClosePacket>): Uint8Array {
  return encodeHandleOnly(PacketType.CLOSE, id, f.handle);
}
export function decodeClose(body: Uint8Array): ClosePacket {
  return decodeHandleOnly(PacketType.CLOSE, body, "SFTP CLOSE");
}

export function encodeFstat(id: number, f: Fields<FstatPacket>): Uint8Array {
  return encodeHandleOnly(PacketType.FSTAT, id, f.handle);
}
export function decodeFstat(body: Uint8Array): FstatPacket {
  return decodeHandleOnly(PacketType.FSTAT, body, "SFTP FSTAT");
}

export function encodeReaddir(id: number, f: Fields<ReaddirPacket>): Uint8Array {
  return encodeHandleOnly(PacketType.READDIR, id, f.handle);
}
export function decodeReaddir(body: Uint8Array): ReaddirPacket {
  return decodeHandleOnly(PacketType.READDIR, body, "SFTP READDIR");
}

export function encodeRead(id: number, f: Fields<ReadPacket>): Uint8Array {
  const w = startPacket(PacketType.READ, id, 20 + f.handle.length);
  w.string(f.handle).uint64(u64(f.offset, "offset")).uint32(u32(f.length, "length"));
  return finishPacket(w);
}
export function decodeRead(body: Uint8Array): ReadPacket {
  const r = new SshReader(body, "SFTP READ");
  const id = r.uint32();
  const handle = readCopy(r);
  const offset = readSafeU64(r, "offset");
  const length = r.uint32();
  r.end();
  return { type: PacketType.READ, id, handle, offset, length };
}

/**
 * WRITE, built in one buffer of the exact size: the header fields, then `data` copied once.
 * (A growable writer would copy large data twice.)
 */
export function encodeWrite(id: number, f: Fields<WritePacket>): Uint8Array {
  const packet = writeHeader(id, f.handle, f.offset, f.data.length, f.data.length);
  packet.set(f.data, packet.length - f.data.length);
  return packet;
}

/**
 * The header of a WRITE carrying `length` bytes of data, framed as if the data followed: sent
 * as one part with the data as the next, the data is copied only into the SSH packet.
 */
export function encodeWriteHeader(id: number, f: { handle: Uint8Array; offset: number; length: number }): Uint8Array {
  return writeHeader(id, f.handle, f.offset, f.length, 0);
}

/** The WRITE header for `length` bytes of data, in a buffer with `room` bytes after it. */
function writeHeader(id: number, handle: Uint8Array, offsetValue: number, length: number, room: number): Uint8Array {
  const offset = u64(offsetValue, "offset");
  u32(id, "request id");
  const headerEnd = 4 + 1 + 4 + 4 + handle.length + 8 + 4;
  // A header alone is short-lived (copied into an SSH packet with its data): a slab piece.
  const packet = room === 0 ? smallBuffer(headerEnd) : new Uint8Array(headerEnd + room);
  const v = new DataView(packet.buffer, packet.byteOffset, packet.length);
  v.setUint32(0, headerEnd - 4 + length);
  packet[4] = PacketType.WRITE;
  v.setUint32(5, id);
  v.setUint32(9, handle.length);
  packet.set(handle, 13);
  v.setBigUint64(13 + handle.length, offset);
  v.setUint32(21 + handle.length, u32(length, "data length"));
  return packet;
}
export function decodeWrite(body: Uint8Array): WritePacket {
  const r = new SshReader(body, "SFTP WRITE");
  const id = r.uint32();
  const handle = readCopy(r);
  const offset = readSafeU64(r, "offset");
  const data = r.string();
  r.end();
  return { type: PacketType.WRITE, id, handle, offset, data };
}

export function encodeFsetstat(id: number, f: Fields<FsetstatPacket>): Uint8Array {
  const w = startPacket(PacketType.FSETSTAT, id, 40 + f.handle.length);
  w.string(f.handle);
  writeAttrs(w, f.attrs);
  return finishPacket(w);
}
export function decodeFsetstat(body: Uint8Array): FsetstatPacket {
  const r = new SshReader(body, "SFTP FSETSTAT");
  const id = r.uint32();
  const handle = readCopy(r);
  const attrs = readAttrs(r);
  r.end();
  return { type: PacketType.FSETSTAT, id, handle, attrs };
}
