import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeKexInit, encodeKexInit, negotiate, type KexInit } from "../../src/ssh/transport/kexinit.js";
import { ProtocolError } from "../../src/errors.js";

const base = (over: Partial<KexInit> = {}): KexInit => ({
  cookie: new Uint8Array(16).fill(7),
  kex: ["curve25519-sha256", "ext-info-c", "kex-strict-c-v00@openssh.com"],
  serverHostKey: ["ssh-ed25519", "rsa-sha2-512"],
  cipherC2S: ["chacha20-poly1305@openssh.com", "aes128-ctr"],
  cipherS2C: ["chacha20-poly1305@openssh.com", "aes128-ctr"],
  macC2S: ["hmac-sha2-256-etm@openssh.com"],
  macS2C: ["hmac-sha2-256-etm@openssh.com"],
  compressionC2S: ["none"],
  compressionS2C: ["none"],
  languagesC2S: [],
  languagesS2C: [],
  firstKexPacketFollows: false,
  ...over,
});
const aead = (c: string) => c.includes("poly1305") || c.includes("gcm");

describe("KEXINIT and negotiation (RFC 4253 §7.1)", () => {
  it("round-trips", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9@.-]{1,12}$/), { maxLength: 5 }), fc.boolean(), (names, follows) => {
        const m = base({ kex: names, macS2C: names, firstKexPacketFollows: follows });
        expect(decodeKexInit(encodeKexInit(m))).toEqual(m);
      }),
    );
  });

  it("picks the client's first algorithm the server has, per direction", () => {
    const server = base({ kex: ["ecdh-sha2-nistp256", "curve25519-sha256", "kex-strict-s-v00@openssh.com"], cipherS2C: ["aes128-ctr"] });
    const n = negotiate(base(), server, aead);
    expect(n).toEqual({
      kex: "curve25519-sha256",
      serverHostKey: "ssh-ed25519",
      cipherC2S: "chacha20-poly1305@openssh.com",
      cipherS2C: "aes128-ctr",
      macC2S: "",
      macS2C: "hmac-sha2-256-etm@openssh.com",
    });
  });

  it("never picks the ext-info / strict-kex markers", () => {
    const server = base({ kex: ["ext-info-c", "kex-strict-c-v00@openssh.com"] });
    expect(() => negotiate(base(), server, aead)).toThrow(/no common key exchange/);
  });

  it("needs no common MAC for AEAD ciphers, but does for others", () => {
    expect(negotiate(base(), base({ macC2S: [], macS2C: [] }), aead).macC2S).toBe("");
    const ctrOnly = base({ cipherC2S: ["aes128-ctr"], cipherS2C: ["aes128-ctr"], macC2S: ["hmac-md5"], macS2C: ["hmac-md5"] });
    expect(() => negotiate(base(), ctrOnly, aead)).toThrow(ProtocolError);
  });

  it("requires compression none", () => {
    expect(() => negotiate(base(), base({ compressionC2S: ["zlib"] }), aead)).toThrow(/compression/);
  });

  it("rejects malformed KEXINITs with ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        try {
          decodeKexInit(new Uint8Array([20, ...b]));
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});
