import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SshError } from "../../src/errors.js";
import { PacketType } from "../../src/sftp/constants.js";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, peekRequestId } from "../../src/sftp/packet.js";
import { encodeWrite } from "../../src/sftp/packets/handle.js";
import { encodeOpen, encodeRename, encodeStat } from "../../src/sftp/packets/path.js";
import { decodeStatus, encodeData, encodeStatus } from "../../src/sftp/packets/response.js";
import { request, response, unframe } from "./arbitraries.js";

describe("SFTP packets round-trip", () => {
  it("every request: encode → decode gives the value, re-encode gives the bytes", () => {
    fc.assert(
      fc.property(request, (req) => {
        const packet = encodeRequest(req);
        const decoded = decodeRequest(unframe(packet));
        expect(decoded).toEqual(req);
        expect(encodeRequest(decoded)).toEqual(packet);
      }),
      { numRuns: 2000 },
    );
  });

  it("every response: encode → decode gives the value, re-encode gives the bytes", () => {
    fc.assert(
      fc.property(response, (res) => {
        const packet = encodeResponse(res);
        const decoded = decodeResponse(unframe(packet));
        expect(decoded).toEqual(res);
        expect(encodeResponse(decoded)).toEqual(packet);
      }),
      { numRuns: 2000 },
    );
  });

  it("peekRequestId reads the id of any packet that has one", () => {
    fc.assert(
      fc.property(request, (req) => {
        const id = peekRequestId(unframe(encodeRequest(req)));
        if (req.type === PacketType.INIT) expect(id).toBe(req.version);
        else expect(id).toBe(req.id);
      }),
    );
    expect(peekRequestId(Uint8Array.of(3, 0, 0))).toBeUndefined();
  });

  it("requests and responses are told apart by type byte", () => {
    const stat = unframe(encodeStat(1, { path: "/" }));
    expect(() => decodeResponse(stat)).toThrow(expect.objectContaining({ code: "SFTP_UNKNOWN_PACKET" }));
    const status = unframe(encodeStatus(1, { code: 0 }));
    expect(() => decodeRequest(status)).toThrow(expect.objectContaining({ code: "SFTP_UNKNOWN_PACKET" }));
    expect(() => decodeRequest(new Uint8Array(0))).toThrow(expect.objectContaining({ code: "SFTP_BAD_PACKET" }));
  });

  it("WRITE and DATA are built in one exact-size buffer", () => {
    const data = new Uint8Array(100_000).fill(7);
    const w = encodeWrite(1, { handle: Uint8Array.of(1, 2), offset: 5, data });
    expect(w.byteLength).toBe(w.buffer.byteLength);
    expect(w.length).toBe(4 + 1 + 4 + 6 + 8 + 4 + data.length);
    const d = encodeData(1, { data });
    expect(d.byteLength).toBe(d.buffer.byteLength);
    expect(d.length).toBe(13 + data.length);
  });

  it("STATUS without message or language (old servers) decodes with empty strings", () => {
    const body = Uint8Array.of(0, 0, 0, 9, 0, 0, 0, 1);
    expect(decodeStatus(body)).toEqual({ type: PacketType.STATUS, id: 9, code: 1, message: "", lang: "" });
    const noLang = Uint8Array.of(0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 2, 0x68, 0x69);
    expect(decodeStatus(noLang)).toMatchObject({ code: 4, message: "hi", lang: "" });
  });

  it("a latin-1 name keeps its exact bytes and a readable string", () => {
    const latin1 = Uint8Array.of(0x63, 0x61, 0x66, 0xe9); // "café" in latin-1
    const packet = unframe(encodeRename(4, { oldPath: "ignored", oldPathBytes: latin1, newPath: "x" }));
    const req = decodeRequest(packet);
    expect(req).toMatchObject({ oldPath: "caf\ufffd", oldPathBytes: latin1, newPath: "x" });
    expect(req).not.toHaveProperty("newPathBytes");
  });

  it("encoders reject values the wire cannot carry", () => {
    const bad = (f: () => unknown) => expect(f).toThrow(SshError);
    bad(() => encodeStat(-1, { path: "/" }));
    bad(() => encodeStat(2 ** 32, { path: "/" }));
    bad(() => encodeWrite(1, { handle: new Uint8Array(1), offset: -1, data: new Uint8Array(0) }));
    bad(() => encodeWrite(1, { handle: new Uint8Array(1), offset: 2 ** 53, data: new Uint8Array(0) }));
    bad(() => encodeOpen(1, { path: "/", pflags: 1, attrs: { uid: 1 } }));
    bad(() => encodeOpen(1, { path: "/", pflags: 1, attrs: { mtime: 1 } }));
    bad(() => encodeOpen(1, { path: "/", pflags: 1, attrs: { permissions: 1.5 } }));
    bad(() => encodeStatus(1, { code: -1 }));
  });
});
