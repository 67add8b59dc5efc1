/**
 * SFTP v3 packets (src/sftp/packet.ts, packets/*, attrs.ts), the OpenSSH extensions'
 * request and reply bodies (src/sftp/extensions/*) and the packet framer (src/sftp/framing.ts)
 * over channel data cut at random places. Besides "value or ProtocolError", a decoded packet
 * must re-encode, and decoding that again must give the same value (the codecs are shared by
 * client and server, so a value one side decodes is one the other side may send back).
 */
import { isDeepStrictEqual } from "node:util";
import { decodeAttrs } from "../../src/sftp/attrs.js";
import { PacketType } from "../../src/sftp/constants.js";
import * as copyData from "../../src/sftp/extensions/copy-data.js";
import * as expandPath from "../../src/sftp/extensions/expand-path.js";
import * as fsync from "../../src/sftp/extensions/fsync.js";
import * as hardlink from "../../src/sftp/extensions/hardlink.js";
import * as home from "../../src/sftp/extensions/home-directory.js";
import * as limits from "../../src/sftp/extensions/limits.js";
import * as lsetstat from "../../src/sftp/extensions/lsetstat.js";
import * as posixRename from "../../src/sftp/extensions/posix-rename.js";
import * as statvfs from "../../src/sftp/extensions/statvfs.js";
import * as ugid from "../../src/sftp/extensions/users-groups-by-id.js";
import { SftpFramer } from "../../src/sftp/framing.js";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, peekRequestId } from "../../src/sftp/packet.js";
import { each, type FuzzTarget } from "../engine.js";
import { concatBytes, sftpPackets, tokens } from "../corpus.js";
import { chunk, chunkSizes } from "../fakes.js";

/** Request decoders by extension name, as the server's extension-ops.ts dispatches them. */
const EXTENSION_REQUESTS: Record<string, (data: Uint8Array) => unknown> = {
  [copyData.COPY_DATA]: copyData.decodeCopyDataRequest,
  [expandPath.EXPAND_PATH]: expandPath.decodeExpandPathRequest,
  [fsync.FSYNC]: fsync.decodeFsyncRequest,
  [hardlink.HARDLINK]: hardlink.decodeHardlinkRequest,
  [home.HOME_DIRECTORY]: home.decodeHomeDirectoryRequest,
  [limits.LIMITS]: limits.decodeLimitsRequest,
  [lsetstat.LSETSTAT]: lsetstat.decodeLsetstatRequest,
  [posixRename.POSIX_RENAME]: posixRename.decodePosixRenameRequest,
  [statvfs.STATVFS]: statvfs.decodeStatvfsRequest,
  [statvfs.FSTATVFS]: statvfs.decodeFstatvfsRequest,
  [ugid.USERS_GROUPS_BY_ID]: ugid.decodeUsersGroupsByIdRequest,
};
/** Reply bodies carry no name: the client knows which it asked for, so try each. */
const EXTENSION_REPLIES = [limits.decodeLimitsReply, statvfs.decodeStatvfsReply, ugid.decodeUsersGroupsByIdReply];

const unframe = (framed: Uint8Array) => framed.subarray(4);

function roundTrip<T>(packet: Uint8Array, decode: (p: Uint8Array) => T, encode: (v: T) => Uint8Array): T {
  const v = decode(packet);
  const again = decode(unframe(encode(v)));
  if (!isDeepStrictEqual(again, v)) throw new Error(`SFTP packet type ${packet[0]} does not survive decode → encode → decode`);
  return v;
}

/** Every decoder that could meet this packet, on either side of the connection. */
function decodeAll(p: Uint8Array): unknown[] {
  return each(
    () => {
      const req = roundTrip(p, decodeRequest, encodeRequest);
      if (req.type !== PacketType.EXTENDED) return req;
      const decode = Object.hasOwn(EXTENSION_REQUESTS, req.request) ? EXTENSION_REQUESTS[req.request] : undefined;
      return decode ? decode(req.data) : req;
    },
    () => {
      const res = roundTrip(p, decodeResponse, encodeResponse);
      return res.type === PacketType.EXTENDED_REPLY ? each(...EXTENSION_REPLIES.map((d) => () => d(res.data))) : res;
    },
    () => peekRequestId(p),
    () => decodeAttrs(p.subarray(5)),
  );
}

const extensionSeeds = () => [
  copyData.encodeCopyDataRequest(1, { readHandle: Uint8Array.of(1), readOffset: 0, readLength: 0, writeHandle: Uint8Array.of(2), writeOffset: 10 }),
  expandPath.encodeExpandPathRequest(2, { path: "~/x" }),
  fsync.encodeFsyncRequest(3, { handle: Uint8Array.of(9, 9) }),
  hardlink.encodeHardlinkRequest(4, { oldPath: "/a", newPath: "/b" }),
  home.encodeHomeDirectoryRequest(5, { username: "" }),
  limits.encodeLimitsRequest(6),
  limits.encodeLimitsReply(6, { maxPacketLength: 263168, maxReadLength: 261120, maxWriteLength: 261120, maxOpenHandles: 64 }),
  lsetstat.encodeLsetstatRequest(7, { path: "/l", attrs: { permissions: 0o644, atime: 1, mtime: 2, extended: [{ type: "x@y", data: Uint8Array.of(1) }] } }),
  posixRename.encodePosixRenameRequest(8, { oldPath: "/a", newPath: "/b" }),
  statvfs.encodeStatvfsRequest(9, { path: "/" }),
  statvfs.encodeFstatvfsRequest(10, { handle: Uint8Array.of(1, 2) }),
  statvfs.encodeStatvfsReply(9, { bsize: 4096n, frsize: 4096n, blocks: 1n << 40n, bfree: 5n, bavail: 4n, files: 9n, ffree: 8n, favail: 7n, fsid: 1n, flag: 3n, namemax: 255n }),
  ugid.encodeUsersGroupsByIdRequest(11, { uids: [0, 1000], gids: [0] }),
  ugid.encodeUsersGroupsByIdReply(11, { users: ["root", ""], groups: ["wheel"] }),
].map(unframe);

export const sftpPacketDecoders: FuzzTarget = {
  name: "sftp-packets",
  iterations: 150_000,
  maxLength: 4096,
  dict: tokens("posix-rename@openssh.com", "statvfs@openssh.com", "limits@openssh.com", "copy-data", "users-groups-by-id@openssh.com"),
  seeds: () => [...sftpPackets().filter((p) => p.length <= 4096), ...extensionSeeds()],
  run: (input) => decodeAll(input),
};

const framed = (p: Uint8Array) => concatBytes(Uint8Array.of(p.length >>> 24, (p.length >>> 16) & 255, (p.length >>> 8) & 255, p.length & 255), p);
const LIMITS = [undefined, 64, 1, 300_000];

export const sftpFramer: FuzzTarget = {
  name: "sftp-framer",
  iterations: 80_000,
  maxLength: 16 * 1024,
  seeds: () => {
    const packets = [...sftpPackets(), ...extensionSeeds()].filter((p) => p.length < 2048);
    return Array.from({ length: 24 }, (_, i) => concatBytes(Uint8Array.of(i * 11, i % 4), ...[0, 1, 2, 3].map((j) => framed(packets[(i * 5 + j) % packets.length]!))));
  },
  run: (input) => {
    const framer = new SftpFramer(LIMITS[(input[1] ?? 0) % LIMITS.length]);
    const out: unknown[] = [];
    for (const piece of chunk(input.subarray(2), chunkSizes(input[0] ?? 0))) {
      for (const p of framer.feed(piece.slice())) {
        if (p.length === 0 || p.length > framer.maxPacketLength) throw new Error(`framer yielded a ${p.length}-byte packet`);
        out.push(decodeAll(p));
      }
    }
    return out;
  },
};

export const targets = [sftpPacketDecoders, sftpFramer];
