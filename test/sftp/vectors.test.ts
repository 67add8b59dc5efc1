/**
 * Hand-assembled packets checked field by field against the layouts of
 * draft-ietf-secsh-filexfer-02 (§3 framing, §5 attrs, §6 requests, §7 replies) and OpenSSH's
 * PROTOCOL §4.1 (SYMLINK argument order).
 */
import { describe, expect, it } from "vitest";
import { decodeAttrs, encodeAttrs } from "../../src/sftp/attrs.js";
import { OpenFlags, PacketType, StatusCode } from "../../src/sftp/constants.js";
import { decodeRequest, decodeResponse } from "../../src/sftp/packet.js";
import { encodeWrite } from "../../src/sftp/packets/handle.js";
import { encodeInit, encodeVersion } from "../../src/sftp/packets/init.js";
import { encodeOpen, encodeSymlink } from "../../src/sftp/packets/path.js";
import { encodeName, encodeStatus } from "../../src/sftp/packets/response.js";
import { hex, unframe, unhex } from "./arbitraries.js";

const check = (packet: Uint8Array, want: string) => expect(hex(packet)).toBe(want.replace(/\s+/g, ""));

describe("SFTP byte vectors (draft-ietf-secsh-filexfer-02)", () => {
  it("INIT and VERSION (§4)", () => {
    check(encodeInit(), "00000005 01 00000003");
    const version = `00000026 02 00000003
      00000018 ${hex(new TextEncoder().encode("posix-rename@openssh.com"))} 00000001 31`;
    check(encodeVersion(3, [{ name: "posix-rename@openssh.com", data: "1" }]), version);
    expect(decodeResponse(unframe(unhex(version)))).toEqual({
      type: PacketType.VERSION,
      version: 3,
      extensions: [{ name: "posix-rename@openssh.com", data: "1" }],
    });
  });

  it("OPEN: id, filename, pflags, attrs (§6.3)", () => {
    const want = `0000001b 03 00000001
      00000006 2f746d702f61
      0000000b
      00000004 000001a4`;
    const pflags = OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT;
    check(encodeOpen(1, { path: "/tmp/a", pflags, attrs: { permissions: 0o644 } }), want);
    expect(decodeRequest(unframe(unhex(want)))).toEqual({
      type: PacketType.OPEN,
      id: 1,
      path: "/tmp/a",
      pflags,
      attrs: { permissions: 0o644 },
    });
  });

  it("WRITE: id, handle, uint64 offset, data (§6.4)", () => {
    check(
      encodeWrite(2, { handle: unhex("6831"), offset: 2 ** 32, data: unhex("616263") }),
      "0000001a 06 00000002 00000002 6831 0000000100000000 00000003 616263",
    );
  });

  it("SYMLINK in OpenSSH's order: targetpath, then linkpath (PROTOCOL §4.1)", () => {
    const want = "0000000f 14 00000009 00000001 74 00000001 6c";
    check(encodeSymlink(9, { targetPath: "t", linkPath: "l" }), want);
    expect(decodeRequest(unframe(unhex(want)))).toMatchObject({ targetPath: "t", linkPath: "l" });
  });

  it("STATUS with message and language tag (§7)", () => {
    const want = "0000001f 65 00000003 00000002 0000000c 4e6f20737563682066696c65 00000002 656e";
    check(encodeStatus(3, { code: StatusCode.NO_SUCH_FILE, message: "No such file", lang: "en" }), want);
    expect(decodeResponse(unframe(unhex(want)))).toEqual({
      type: PacketType.STATUS,
      id: 3,
      code: 2,
      message: "No such file",
      lang: "en",
    });
  });

  it("NAME with one entry: count, filename, longname, attrs (§7)", () => {
    const want = `00000027 68 00000007 00000001
      00000005 612e747874
      00000001 78
      00000005 0000000000000005 000081a4`;
    const entry = { filename: "a.txt", longname: "x", attrs: { size: 5, permissions: 0o100644 } };
    check(encodeName(7, { entries: [entry] }), want);
    expect(decodeResponse(unframe(unhex(want)))).toEqual({ type: PacketType.NAME, id: 7, entries: [entry] });
  });

  it("ATTRS with every flag, in §5 order", () => {
    const want = `8000000f
      0000000000000400
      000003e8 00000064
      000041ed
      5f5e1000 5f5e1001
      00000001 00000003 614062 00000002 7879`;
    const attrs = {
      size: 1024,
      uid: 1000,
      gid: 100,
      permissions: 0o40755,
      atime: 1600000000,
      mtime: 1600000001,
      extended: [{ type: "a@b", data: unhex("7879") }],
    };
    check(encodeAttrs(attrs), want);
    expect(decodeAttrs(unhex(want))).toEqual(attrs);
  });
});
