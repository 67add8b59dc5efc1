/** OpenSSH sftp extensions (PROTOCOL §4.3-§4.12): request and reply bodies round-trip. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ProtocolError } from "../../src/errors.js";
import { PacketType } from "../../src/sftp/constants.js";
import { decodeRequest, decodeResponse } from "../../src/sftp/packet.js";
import * as copyData from "../../src/sftp/extensions/copy-data.js";
import * as expandPath from "../../src/sftp/extensions/expand-path.js";
import * as fsync from "../../src/sftp/extensions/fsync.js";
import * as hardlink from "../../src/sftp/extensions/hardlink.js";
import * as homeDirectory from "../../src/sftp/extensions/home-directory.js";
import * as limits from "../../src/sftp/extensions/limits.js";
import * as lsetstat from "../../src/sftp/extensions/lsetstat.js";
import * as posixRename from "../../src/sftp/extensions/posix-rename.js";
import * as statvfs from "../../src/sftp/extensions/statvfs.js";
import * as ugid from "../../src/sftp/extensions/users-groups-by-id.js";
import { attrs, bytes, hex, id, named, offset, text, u32, unframe, unhex } from "./arbitraries.js";

/** Encodes with `encode`, checks the EXTENDED framing and name, decodes the data with `decode`. */
function requestRoundTrip<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  encode: (id: number, f: T) => Uint8Array,
  decode: (data: Uint8Array) => unknown,
) {
  fc.assert(
    fc.property(id, arb, (reqId, f) => {
      const req = decodeRequest(unframe(encode(reqId, f)));
      if (req.type !== PacketType.EXTENDED) throw new Error("not EXTENDED");
      expect(req.id).toBe(reqId);
      expect(req.request).toBe(name);
      expect(decode(req.data)).toEqual(f);
    }),
    { numRuns: 300 },
  );
}

function replyRoundTrip<T>(arb: fc.Arbitrary<T>, encode: (id: number, f: T) => Uint8Array, decode: (d: Uint8Array) => T) {
  fc.assert(
    fc.property(id, arb, (reqId, f) => {
      const res = decodeResponse(unframe(encode(reqId, f)));
      if (res.type !== PacketType.EXTENDED_REPLY) throw new Error("not EXTENDED_REPLY");
      expect(res.id).toBe(reqId);
      expect(decode(res.data)).toEqual(f);
    }),
    { numRuns: 300 },
  );
}

const twoPaths = fc.tuple(named("oldPath"), named("newPath")).map(([a, b]) => ({ ...a, ...b }));
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe("OpenSSH sftp extensions", () => {
  it("posix-rename, hardlink", () => {
    requestRoundTrip(
      posixRename.POSIX_RENAME,
      twoPaths,
      posixRename.encodePosixRenameRequest,
      posixRename.decodePosixRenameRequest,
    );
    requestRoundTrip(hardlink.HARDLINK, twoPaths, hardlink.encodeHardlinkRequest, hardlink.decodeHardlinkRequest);
  });

  it("statvfs, fstatvfs and their reply", () => {
    requestRoundTrip(statvfs.STATVFS, named("path"), statvfs.encodeStatvfsRequest, statvfs.decodeStatvfsRequest);
    const handle = fc.record({ handle: bytes(32) });
    requestRoundTrip(statvfs.FSTATVFS, handle, statvfs.encodeFstatvfsRequest, statvfs.decodeFstatvfsRequest);
    const keys = ["bsize", "frsize", "blocks", "bfree", "bavail", "files", "ffree", "favail", "fsid", "flag", "namemax"];
    const reply = fc
      .tuple(...keys.map(() => u64))
      .map((vs) => Object.fromEntries(keys.map((k, i) => [k, vs[i]])) as unknown as statvfs.StatvfsReply);
    replyRoundTrip(reply, statvfs.encodeStatvfsReply, statvfs.decodeStatvfsReply);
  });

  it("statvfs reply is eleven uint64s in struct order", () => {
    const data = unhex(Array.from({ length: 11 }, (_, i) => (i + 1).toString(16).padStart(16, "0")).join(""));
    expect(statvfs.decodeStatvfsReply(data)).toEqual({
      bsize: 1n, frsize: 2n, blocks: 3n, bfree: 4n, bavail: 5n, files: 6n,
      ffree: 7n, favail: 8n, fsid: 9n, flag: 10n, namemax: 11n,
    });
    expect(() => statvfs.decodeStatvfsReply(data.subarray(0, 80))).toThrow(ProtocolError);
  });

  it("fsync, lsetstat, expand-path, home-directory", () => {
    requestRoundTrip(fsync.FSYNC, fc.record({ handle: bytes(32) }), fsync.encodeFsyncRequest, fsync.decodeFsyncRequest);
    const ls = fc.tuple(named("path"), attrs).map(([p, a]) => ({ ...p, attrs: a }));
    requestRoundTrip(lsetstat.LSETSTAT, ls, lsetstat.encodeLsetstatRequest, lsetstat.decodeLsetstatRequest);
    requestRoundTrip(
      expandPath.EXPAND_PATH,
      named("path"),
      expandPath.encodeExpandPathRequest,
      expandPath.decodeExpandPathRequest,
    );
    const user = fc.record({ username: text });
    requestRoundTrip(
      homeDirectory.HOME_DIRECTORY,
      user,
      homeDirectory.encodeHomeDirectoryRequest,
      homeDirectory.decodeHomeDirectoryRequest,
    );
  });

  it("limits: empty request, four-number reply in OpenSSH's order", () => {
    const req = decodeRequest(unframe(limits.encodeLimitsRequest(5)));
    expect(req).toEqual({ type: PacketType.EXTENDED, id: 5, request: limits.LIMITS, data: new Uint8Array(0) });
    expect(limits.decodeLimitsRequest(new Uint8Array(0))).toEqual({});
    expect(() => limits.decodeLimitsRequest(Uint8Array.of(0))).toThrow(ProtocolError);
    const reply = fc.record({ maxPacketLength: offset, maxReadLength: offset, maxWriteLength: offset, maxOpenHandles: offset });
    replyRoundTrip(reply, limits.encodeLimitsReply, limits.decodeLimitsReply);
    const packet = limits.encodeLimitsReply(5, {
      maxPacketLength: 262144,
      maxReadLength: 261120,
      maxWriteLength: 261120,
      maxOpenHandles: 1019,
    });
    expect(hex(packet)).toBe(
      "00000025c900000005" + "0000000000040000" + "000000000003fc00" + "000000000003fc00" + "00000000000003fb",
    );
    const huge = unhex("ffffffffffffffff".repeat(4));
    expect(limits.decodeLimitsReply(huge).maxOpenHandles).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("copy-data", () => {
    const arb = fc.record({ readHandle: bytes(16), readOffset: offset, readLength: offset, writeHandle: bytes(16), writeOffset: offset });
    requestRoundTrip(copyData.COPY_DATA, arb, copyData.encodeCopyDataRequest, copyData.decodeCopyDataRequest);
  });

  it("users-groups-by-id: packed ids out, packed names back", () => {
    const req = fc.record({ uids: fc.array(u32, { maxLength: 10 }), gids: fc.array(u32, { maxLength: 10 }) });
    requestRoundTrip(
      ugid.USERS_GROUPS_BY_ID,
      req,
      ugid.encodeUsersGroupsByIdRequest,
      ugid.decodeUsersGroupsByIdRequest,
    );
    const names = fc.record({ users: fc.array(text, { maxLength: 6 }), groups: fc.array(text, { maxLength: 6 }) });
    replyRoundTrip(names, ugid.encodeUsersGroupsByIdReply, ugid.decodeUsersGroupsByIdReply);
    // uids [0, 1000], gids [] → "root", "" (unknown)
    const data = ugid.encodeUsersGroupsByIdRequest(1, { uids: [0, 1000], gids: [] });
    expect(hex(unframe(data)).endsWith("00000008" + "00000000" + "000003e8" + "00000000")).toBe(true);
    const reply = unhex("0000000c 00000004 726f6f74 00000000 00000000");
    expect(ugid.decodeUsersGroupsByIdReply(reply)).toEqual({ users: ["root", ""], groups: [] });
    expect(() => ugid.decodeUsersGroupsByIdRequest(unhex("00000003 000000 00000000"))).toThrow(/multiple of 4/);
  });
});
