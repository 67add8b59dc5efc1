/**
 * Every SFTP v3 packet as one typed value, in each direction: `SftpRequest` (client → server)
 * and `SftpResponse` (server → client), each with one decoder that dispatches on the type byte
 * and one encoder that dispatches on `type`. The client and the embedded server share them.
 *
 * A `packet` here is what SftpFramer yields: the type byte followed by the body, without the
 * uint32 length. Encoders return the whole framed packet, length included.
 */
import { ProtocolError } from "../errors.js";
import { PacketType } from "./constants.js";
import * as ext from "./packets/extended.js";
import * as h from "./packets/handle.js";
import * as init from "./packets/init.js";
import * as p from "./packets/path.js";
import * as res from "./packets/response.js";

export type SftpRequest =
  | init.InitPacket
  | p.OpenPacket
  | h.ClosePacket
  | h.ReadPacket
  | h.WritePacket
  | p.LstatPacket
  | h.FstatPacket
  | p.SetstatPacket
  | h.FsetstatPacket
  | p.OpendirPacket
  | h.ReaddirPacket
  | p.RemovePacket
  | p.MkdirPacket
  | p.RmdirPacket
  | p.RealpathPacket
  | p.StatPacket
  | p.RenamePacket
  | p.ReadlinkPacket
  | p.SymlinkPacket
  | ext.ExtendedPacket;

export type SftpResponse =
  | init.VersionPacket
  | res.StatusPacket
  | res.HandlePacket
  | res.DataPacket
  | res.NamePacket
  | res.AttrsPacket
  | ext.ExtendedReplyPacket;

const REQUEST_DECODERS: Record<number, (body: Uint8Array) => SftpRequest> = {
  [PacketType.INIT]: init.decodeInit,
  [PacketType.OPEN]: p.decodeOpen,
  [PacketType.CLOSE]: h.decodeClose,
  [PacketType.READ]: h.decodeRead,
  [PacketType.WRITE]: h.decodeWrite,
  [PacketType.LSTAT]: p.decodeLstat,
  [PacketType.FSTAT]: h.decodeFstat,
  [PacketType.SETSTAT]: p.decodeSetstat,
  [PacketType.FSETSTAT]: h.decodeFsetstat,
  [PacketType.OPENDIR]: p.decodeOpendir,
  [PacketType.READDIR]: h.decodeReaddir,
  [PacketType.REMOVE]: p.decodeRemove,
  [PacketType.MKDIR]: p.decodeMkdir,
  [PacketType.RMDIR]: p.decodeRmdir,
  [PacketType.REALPATH]: p.decodeRealpath,
  [PacketType.STAT]: p.decodeStat,
  [PacketType.RENAME]: p.decodeRename,
  [PacketType.READLINK]: p.decodeReadlink,
  [PacketType.SYMLINK]: p.decodeSymlink,
  [PacketType.EXTENDED]: ext.decodeExtended,
};

const RESPONSE_DECODERS: Record<number, (body: Uint8Array) => SftpResponse> = {
  [PacketType.VERSION]: init.decodeVersion,
  [PacketType.STATUS]: res.decodeStatus,
  [PacketType.HANDLE]: res.decodeHandle,
  [PacketType.DATA]: res.decodeData,
  [PacketType.NAME]: res.decodeName,
  [PacketType.ATTRS]: res.decodeAttrsReply,
  [PacketType.EXTENDED_REPLY]: ext.decodeExtendedReply,
};

function dispatch<T>(decoders: Record<number, (body: Uint8Array) => T>, packet: Uint8Array, dir: string): T {
  if (packet.length === 0) throw new ProtocolError(`empty SFTP ${dir} packet`, "SFTP_BAD_PACKET");
  const type = packet[0]!;
  const decode = decoders[type];
  if (!decode) throw new ProtocolError(`unknown SFTP ${dir} packet type ${type}`, "SFTP_UNKNOWN_PACKET");
  return decode(packet.subarray(1));
}

/**
 * Decodes a client → server packet. Throws ProtocolError: code "SFTP_UNKNOWN_PACKET" for a type
 * that is not a v3 request (a server answers that with STATUS OP_UNSUPPORTED, using
 * `peekRequestId`), "PROTOCOL_ERROR" for malformed fields.
 */
export function decodeRequest(packet: Uint8Array): SftpRequest {
  return dispatch(REQUEST_DECODERS, packet, "request");
}

/** Decodes a server → client packet; throws ProtocolError as `decodeRequest` does. */
export function decodeResponse(packet: Uint8Array): SftpResponse {
  return dispatch(RESPONSE_DECODERS, packet, "response");
}

/** The request id of a packet (type byte + body) without decoding it; undefined if too short. */
export function peekRequestId(packet: Uint8Array): number | undefined {
  if (packet.length < 5) return undefined;
  return new DataView(packet.buffer, packet.byteOffset + 1, 4).getUint32(0);
}

/** Encodes any request value to its framed packet. */
export function encodeRequest(r: SftpRequest): Uint8Array {
  switch (r.type) {
    case PacketType.INIT: return init.encodeInit(r.version, r.extensions);
    case PacketType.OPEN: return p.encodeOpen(r.id, r);
    case PacketType.CLOSE: return h.encodeClose(r.id, r);
    case PacketType.READ: return h.encodeRead(r.id, r);
    case PacketType.WRITE: return h.encodeWrite(r.id, r);
    case PacketType.LSTAT: return p.encodeLstat(r.id, r);
    case PacketType.FSTAT: return h.encodeFstat(r.id, r);
    case PacketType.SETSTAT: return p.encodeSetstat(r.id, r);
    case PacketType.FSETSTAT: return h.encodeFsetstat(r.id, r);
    case PacketType.OPENDIR: return p.encodeOpendir(r.id, r);
    case PacketType.READDIR: return h.encodeReaddir(r.id, r);
    case PacketType.REMOVE: return p.encodeRemove(r.id, r);
    case PacketType.MKDIR: return p.encodeMkdir(r.id, r);
    case PacketType.RMDIR: return p.encodeRmdir(r.id, r);
    case PacketType.REALPATH: return p.encodeRealpath(r.id, r);
    case PacketType.STAT: return p.encodeStat(r.id, r);
    case PacketType.RENAME: return p.encodeRename(r.id, r);
    case PacketType.READLINK: return p.encodeReadlink(r.id, r);
    case PacketType.SYMLINK: return p.encodeSymlink(r.id, r);
    case PacketType.EXTENDED: return ext.encodeExtended(r.id, r);
  }
}

/** Encodes any response value to its framed packet. */
export function encodeResponse(r: SftpResponse): Uint8Array {
  switch (r.type) {
    case PacketType.VERSION: return init.encodeVersion(r.version, r.extensions);
    case PacketType.STATUS: return res.encodeStatus(r.id, r);
    case PacketType.HANDLE: return res.encodeHandle(r.id, r);
    case PacketType.DATA: return res.encodeData(r.id, r);
    case PacketType.NAME: return res.encodeName(r.id, r);
    case PacketType.ATTRS: return res.encodeAttrsReply(r.id, r);
    case PacketType.EXTENDED_REPLY: return ext.encodeExtendedReply(r.id, r);
  }
}
