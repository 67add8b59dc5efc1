import { beforeAll, describe, expect, it } from "vitest";
import { CIPHERS, DEFAULT_CIPHERS, DEFAULT_MACS, LEGACY_MACS, MACS } from "../../src/ssh/crypto/algorithms.js";
import { equalBytes } from "../../src/ssh/crypto/constant-time.js";
import { HMAC_SHA1, HMAC_SHA2_256, HMAC_SHA2_512 } from "../../src/ssh/crypto/mac.js";
import type { MacAlgorithm } from "../../src/ssh/crypto/cipher.js";
import { ProtocolError } from "../../src/errors.js";
import type { CryptoSuite } from "../../src/ssh/crypto/primitives.js";
import { NOBLE_SUITE } from "../../src/ssh/crypto/noble-primitives.js";
import { hex, suiteNamed, toHex } from "./harness.js";

const text = (s: string) => new TextEncoder().encode(s);

/**
 * The MACs compute HMAC(key, uint32 seq || data). RFC test messages are at least 4 bytes, so
 * their first 4 bytes serve as the sequence number and the rest as the data. RFC keys shorter
 * than keyLength are zero-padded to it: HMAC zero-pads short keys to the hash block size
 * anyway (RFC 2104 §2), so the MAC is unchanged.
 */
function macOfMessage(alg: MacAlgorithm, key: Uint8Array, message: Uint8Array, suite: CryptoSuite): string {
  const seq = new DataView(message.buffer, message.byteOffset).getUint32(0);
  return toHex(alg.create(pad(key, alg.keyLength), suite).compute(seq, message.subarray(4)));
}

const LONG_KEY_DATA = text("Test Using Larger Than Block-Size Key - Hash Key First");

describe.each(["pure", "native", "auto"] as const)("HMAC known answers through the MAC interface (%s)", (name) => {
  let suite: CryptoSuite;
  beforeAll(async () => {
    suite = (await suiteNamed(name))!;
  });
  const macOf = (alg: MacAlgorithm, key: Uint8Array, message: Uint8Array) => macOfMessage(alg, key, message, suite);

  it("RFC 4231 test cases 1 and 2 (HMAC-SHA-256 / -512)", () => {
    const k1 = new Uint8Array(20).fill(0x0b);
    expect(macOf(HMAC_SHA2_256, k1, text("Hi There"))).toBe(
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    );
    expect(macOf(HMAC_SHA2_512, k1, text("Hi There"))).toBe(
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    );
    const jefe = text("what do ya want for nothing?");
    expect(macOf(HMAC_SHA2_256, text("Jefe"), jefe)).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    expect(macOf(HMAC_SHA2_512, text("Jefe"), jefe)).toBe(
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    );
  });

  it("RFC 2202 test cases 1 and 2 (HMAC-SHA-1)", () => {
    expect(macOf(HMAC_SHA1, new Uint8Array(20).fill(0x0b), text("Hi There"))).toBe(
      "b617318655057264e28bc0b6fb378c8ef146be00",
    );
    expect(macOf(HMAC_SHA1, text("Jefe"), text("what do ya want for nothing?"))).toBe(
      "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
    );
  });

  it("uses only the first keyLength bytes of a longer key, as OpenSSH's mac_init does", () => {
    // RFC 4231 test case 6 (131-byte key) gives a different MAC: the key is cut to keyLength.
    const long = new Uint8Array(131).fill(0xaa);
    const viaLong = toHex(HMAC_SHA2_256.create(long, suite).compute(0x54657374, LONG_KEY_DATA.subarray(4)));
    expect(viaLong).not.toBe("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    expect(viaLong).toBe(toHex(HMAC_SHA2_256.create(long.subarray(0, 32), suite).compute(0x54657374, LONG_KEY_DATA.subarray(4))));
  });

  it("gives the same MAC on every call (the reused keyed state is restored per packet)", () => {
    for (const alg of Object.values(MACS)) {
      const key = new Uint8Array(alg.keyLength).map((_, i) => i * 7);
      const a = alg.create(key, suite);
      const b = alg.create(key.map((x) => x ^ 1), suite);
      const data = new Uint8Array(100).fill(3);
      const first = toHex(a.compute(5, data));
      b.compute(5, data);
      expect(toHex(a.compute(5, data))).toBe(first);
      expect(toHex(a.compute(6, data))).not.toBe(first);
      expect(a.compute(5, data)).toHaveLength(alg.length);
    }
  });

  it("rejects a key shorter than keyLength", () => {
    expect(() => HMAC_SHA2_512.create(new Uint8Array(32), NOBLE_SUITE)).toThrow(ProtocolError);
  });
});

describe("equalBytes", () => {
  it("compares contents and lengths", () => {
    expect(equalBytes(hex("0102"), hex("0102"))).toBe(true);
    expect(equalBytes(hex("0102"), hex("0103"))).toBe(false);
    expect(equalBytes(hex("0102"), hex("010203"))).toBe(false);
    expect(equalBytes(new Uint8Array(), new Uint8Array())).toBe(true);
  });
});

describe("algorithm registries", () => {
  it("register every default by name, and keep SHA-1 MACs out of the defaults", () => {
    for (const name of DEFAULT_CIPHERS) expect(CIPHERS[name]?.name).toBe(name);
    for (const name of DEFAULT_MACS) expect(MACS[name]?.name).toBe(name);
    expect([...LEGACY_MACS].sort()).toEqual(["hmac-sha1", "hmac-sha1-etm@openssh.com"]);
    for (const name of LEGACY_MACS) {
      expect(MACS[name]).toBeDefined();
      expect(DEFAULT_MACS).not.toContain(name);
    }
    expect(Object.values(MACS).filter((m) => m.etm).map((m) => m.name)).toEqual(
      Object.keys(MACS).filter((n) => n.endsWith("-etm@openssh.com")),
    );
  });

  it("list ciphers in OpenSSH 9.x client order", () => {
    expect(DEFAULT_CIPHERS).toEqual([
      "chacha20-poly1305@openssh.com",
      "aes128-ctr",
      "aes192-ctr",
      "aes256-ctr",
      "aes128-gcm@openssh.com",
      "aes256-gcm@openssh.com",
    ]);
  });
});

function pad(key: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(Math.max(length, key.length));
  out.set(key);
  return out;
}
