import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SshReader } from "../src/ssh/wire/reader.js";
import { SshWriter, mpintBytes } from "../src/ssh/wire/writer.js";
import { ProtocolError } from "../src/errors.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("wire codec (RFC 4251 §5)", () => {
  it("encodes the RFC 4251 §5 mpint examples", () => {
    const cases: [bigint, string][] = [
      [0n, "00000000"],
      [0x9a378f9b2e332a7n, "0000000809a378f9b2e332a7"],
      [0x80n, "000000020080"],
      [-0x1234n, "00000002edcc"],
      [-0xdeadbeefn, "00000005ff21524111"],
    ];
    for (const [v, want] of cases) {
      expect(hex(new SshWriter().mpint(v).finish())).toBe(want);
      expect(new SshReader(Buffer.from(want, "hex")).mpint()).toBe(v);
    }
  });

  it("encodes the RFC 4251 §5 name-list examples", () => {
    expect(hex(new SshWriter().nameList([]).finish())).toBe("00000000");
    expect(hex(new SshWriter().nameList(["zlib"]).finish())).toBe("000000047a6c6962");
    expect(hex(new SshWriter().nameList(["zlib", "none"]).finish())).toBe("000000097a6c69622c6e6f6e65");
  });

  it("round-trips every type", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.uint8Array({ maxLength: 300 }),
        fc.bigInt({ min: -(1n << 600n), max: 1n << 600n }),
        fc.array(fc.stringMatching(/^[a-z0-9@.-]{1,20}$/), { maxLength: 8 }),
        fc.string({ maxLength: 40 }),
        (b, bool, u32, u64, str, mp, names, text) => {
          const w = new SshWriter(4)
            .byte(b)
            .boolean(bool)
            .uint32(u32)
            .uint64(u64)
            .string(str)
            .mpint(mp)
            .nameList(names)
            .string(text);
          const r = new SshReader(w.finish());
          expect(r.byte()).toBe(b);
          expect(r.boolean()).toBe(bool);
          expect(r.uint32()).toBe(u32);
          expect(r.uint64()).toBe(u64);
          expect(r.string()).toEqual(str);
          expect(r.mpint()).toBe(mp);
          expect(r.nameList()).toEqual(names);
          expect(r.utf8()).toBe(text);
          r.end();
        },
      ),
    );
  });

  it("mpint encodings are minimal", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }), (v) => {
        const b = mpintBytes(v);
        if (b.length > 1) {
          expect(b[0] === 0 && b[1]! < 0x80).toBe(false);
          expect(b[0] === 0xff && b[1]! >= 0x80).toBe(false);
        }
      }),
    );
  });

  it("rejects truncation, overlong lengths and bad mpints with ProtocolError", () => {
    expect(() => new SshReader(new Uint8Array([0, 0, 0])).uint32()).toThrow(ProtocolError);
    expect(() => new SshReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1])).string()).toThrow(ProtocolError);
    expect(() => new SshReader(Buffer.from("000000020012", "hex")).mpint()).toThrow(/non-minimal/);
    expect(() => new SshReader(Buffer.from("00000002ff80", "hex")).mpint()).toThrow(/non-minimal/);
    expect(() => new SshReader(Buffer.from("0000000361,62", "latin1")).nameList()).toThrow(ProtocolError);
    expect(() => new SshReader(Buffer.from("0000000261ff", "hex")).nameList()).toThrow(ProtocolError);
    expect(() => new SshReader(Buffer.from("00000001ff", "hex")).utf8()).toThrow(ProtocolError);
    const r = new SshReader(new Uint8Array([1, 2]));
    r.byte();
    expect(() => r.end()).toThrow(/trailing/);
  });

  it("random bytes only ever produce values or ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 10 }), (bytes, ops) => {
        const r = new SshReader(bytes);
        try {
          for (const op of ops) {
            [() => r.byte(), () => r.uint32(), () => r.uint64(), () => r.string(), () => r.mpint(), () => r.nameList(), () => r.utf8(), () => r.positiveMpintBytes()][op]!();
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });

  it("utf8() keeps a leading U+FEFF: a certificate principal \"\\uFEFFroot\" is not \"root\"", () => {
    const w = new SshWriter().string("\uFEFFroot").string("a\uFEFF");
    const r = new SshReader(w.finish());
    expect(r.utf8()).toBe("\uFEFFroot");
    expect(r.utf8()).toBe("a\uFEFF");
  });

  it("writer headroom leaves space in front of the payload", () => {
    const w = new SshWriter(8, 5).byte(94).uint32(7);
    expect(w.length).toBe(5);
    expect(w.withHeadroom().length).toBe(10);
    expect(hex(w.finish())).toBe("5e00000007");
  });
});
