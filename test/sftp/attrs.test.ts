import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ProtocolError } from "../../src/errors.js";
import { Stats, decodeAttrs, encodeAttrs } from "../../src/sftp/attrs.js";
import { FileType } from "../../src/sftp/constants.js";
import { attrs, unhex } from "./arbitraries.js";

describe("SFTP attrs (§5)", () => {
  it("round-trip", () => {
    fc.assert(
      fc.property(attrs, (a) => {
        expect(decodeAttrs(encodeAttrs(a))).toEqual(a);
      }),
      { numRuns: 1000 },
    );
  });

  it("no flags is an empty object, with no undefined keys", () => {
    expect(Object.keys(decodeAttrs(unhex("00000000")))).toEqual([]);
  });

  it("ignores unknown flag bits, as OpenSSH does", () => {
    expect(decodeAttrs(unhex("00000104 000001ff"))).toEqual({ permissions: 0o777 });
  });

  it("rejects a size above 2^53-1 instead of rounding it", () => {
    expect(() => decodeAttrs(unhex("00000001 0020000000000000"))).toThrow(ProtocolError);
    expect(decodeAttrs(unhex("00000001 001fffffffffffff"))).toEqual({ size: Number.MAX_SAFE_INTEGER });
  });

  it("rejects an extended count the remaining bytes cannot hold, before reading entries", () => {
    expect(() => decodeAttrs(unhex("80000000 ffffffff"))).toThrow(/claim 4294967295 extended pairs/);
    expect(() => decodeAttrs(unhex("80000000 00000002 00000000 00000000"))).toThrow(ProtocolError);
  });

  it("truncated input is a ProtocolError", () => {
    const full = encodeAttrs({ size: 1, uid: 2, gid: 3, permissions: 4, atime: 5, mtime: 6 });
    for (let n = 0; n < full.length; n++) expect(() => decodeAttrs(full.subarray(0, n))).toThrow(ProtocolError);
  });
});

describe("Stats", () => {
  const kinds = [
    [FileType.S_IFREG, "isFile"],
    [FileType.S_IFDIR, "isDirectory"],
    [FileType.S_IFLNK, "isSymbolicLink"],
    [FileType.S_IFIFO, "isFIFO"],
    [FileType.S_IFSOCK, "isSocket"],
    [FileType.S_IFBLK, "isBlockDevice"],
    [FileType.S_IFCHR, "isCharacterDevice"],
  ] as const;

  it("tells each file type by the S_IFMT bits and nothing else", () => {
    for (const [bits, yes] of kinds) {
      const s = new Stats({ permissions: bits | 0o7777 });
      for (const [, method] of kinds) expect(s[method](), `${bits.toString(8)} ${method}`).toBe(method === yes);
    }
  });

  it("copies the fields and leaves missing ones undefined", () => {
    const s = new Stats({ size: 10, uid: 1, gid: 2, permissions: 0o100600, atime: 3, mtime: 4 });
    expect([s.size, s.uid, s.gid, s.mode, s.atime, s.mtime]).toEqual([10, 1, 2, 0o100600, 3, 4]);
    const empty = new Stats({});
    expect([empty.size, empty.mode, empty.mtime]).toEqual([undefined, undefined, undefined]);
    expect(empty.isDirectory() || empty.isFile()).toBe(false);
  });
});
