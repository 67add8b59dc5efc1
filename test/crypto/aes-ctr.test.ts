import { describe, expect, it } from "vitest";
import { ctr } from "@noble/ciphers/aes.js";
import { ctr as webCtr } from "@noble/ciphers/webcrypto.js";
import { AES128_CTR, AES192_CTR, AES256_CTR } from "../../src/ssh/crypto/aes-ctr.js";
import { CIPHERS, MACS } from "../../src/ssh/crypto/algorithms.js";
import type { CipherAlgorithm } from "../../src/ssh/crypto/cipher.js";
import { HMAC_SHA2_256, HMAC_SHA2_256_ETM } from "../../src/ssh/crypto/mac.js";
import { ProtocolError } from "../../src/errors.js";
import { buildPacket, checkPairing, checkVectorCase, hex, openSshVectors, toHex, suitesFor, suiteNamed } from "./harness.js";
import { NOBLE_SUITE } from "../../src/ssh/crypto/noble-primitives.js";

// NIST SP 800-38A Appendix F.5.1, F.5.3, F.5.5 (CTR-AES128/192/256.Encrypt).
const NIST_COUNTER = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const NIST_PLAIN =
  "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const NIST: [CipherAlgorithm, string, string][] = [
  [
    AES128_CTR,
    "2b7e151628aed2a6abf7158809cf4f3c",
    "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
  ],
  [
    AES192_CTR,
    "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
    "1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6f4ce8e941e36b26bd1ebc670d1bd1d665620abf74f78a7f6d29809585a97daec58c6b050",
  ],
  [
    AES256_CTR,
    "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6",
  ],
];

describe.each(NIST)("%s with the SP 800-38A F.5 vector", (cipher, key, expected) => {
  it("noble sync and WebCrypto CTR give the published ciphertext", async () => {
    expect(toHex(ctr(hex(key), hex(NIST_COUNTER)).encrypt(hex(NIST_PLAIN)))).toBe(expected);
    expect(toHex(await webCtr(hex(key), hex(NIST_COUNTER)).encrypt(hex(NIST_PLAIN)))).toBe(expected);
  });

  it("continues one keystream across packets (RFC 4344 §4)", async () => {
    // seal() does not parse the packet, so the NIST plaintext can stand in for two packets.
    for (const [, backend] of await suitesFor(cipher, HMAC_SHA2_256)) {
      const keys = { key: hex(key), iv: hex(NIST_COUNTER), macKey: new Uint8Array(32) };
      const sealer = cipher.createSealer(keys, HMAC_SHA2_256, backend);
      const plain = hex(NIST_PLAIN);
      const first = await sealer.seal(0, plain.slice(0, 16));
      const second = await sealer.seal(1, plain.slice(16));
      expect(toHex(first.subarray(0, 16)) + toHex(second.subarray(0, 48))).toBe(expected);
    }
  });
});

describe("aes-ctr packet protection", () => {
  it("matches the independent OpenSSL-based reference (test/vectors/openssh-packets.py)", async () => {
    const cases = openSshVectors((v) => v.cipher.endsWith("-ctr"));
    expect(cases.length).toBeGreaterThanOrEqual(5);
    for (const c of cases) {
      for (const [, suite] of await suitesFor(CIPHERS[c.cipher]!, MACS[c.mac!])) await checkVectorCase(c, CIPHERS[c.cipher]!, MACS[c.mac!], suite);
    }
  });

  it("follows the -etm and non-etm layouts", () => {
    const keys = { key: new Uint8Array(16), iv: new Uint8Array(16), macKey: new Uint8Array(32) };
    const plain = AES128_CTR.createOpener(keys, HMAC_SHA2_256, NOBLE_SUITE);
    const etm = AES128_CTR.createOpener(keys, HMAC_SHA2_256_ETM, NOBLE_SUITE);
    expect([plain.headerLength, plain.lengthExcludedFromPadding, plain.macLength]).toEqual([16, false, 32]);
    expect([etm.headerLength, etm.lengthExcludedFromPadding, etm.macLength]).toEqual([4, true, 32]);
  });

  it("requires a MAC", () => {
    const keys = { key: new Uint8Array(16), iv: new Uint8Array(16), macKey: new Uint8Array(0) };
    expect(() => AES128_CTR.createSealer(keys, undefined, NOBLE_SUITE)).toThrow(ProtocolError);
  });

  it.each(["webcrypto", "native", "pure"] as const)("-etm checks the MAC before any decryption starts (%s)", async (name) => {
    const suite = await suiteNamed(name);
    if (!suite) return; // no WebCrypto on this runtime
    const keys = { key: new Uint8Array(32).fill(1), iv: new Uint8Array(16), macKey: new Uint8Array(32).fill(2) };
    const wire = await AES256_CTR.createSealer(keys, HMAC_SHA2_256_ETM, suite).seal(0, buildPacket(new Uint8Array(30), 16, true));
    wire[6]! ^= 1;
    // On the async backend a MAC failure is thrown synchronously: no decryption was queued.
    const opener = AES256_CTR.createOpener(keys, HMAC_SHA2_256_ETM, suite);
    expect(() => opener.open(0, wire)).toThrow(expect.objectContaining({ code: "BAD_MAC" }));
  });

  const pairings = [AES128_CTR, AES192_CTR, AES256_CTR].flatMap((c) => Object.values(MACS).map((m) => [c, m] as const));
  it.each(pairings)("%s + %s: round trip, backend agreement, tamper, packetLength", async (cipher, mac) => {
    await checkPairing(cipher, mac, 8);
  });
});
