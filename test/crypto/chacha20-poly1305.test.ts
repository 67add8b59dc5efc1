import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chacha20orig } from "@noble/ciphers/chacha.js";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { CHACHA20_POLY1305 } from "../../src/ssh/crypto/chacha20-poly1305.js";
import { ProtocolError } from "../../src/errors.js";
import { buildPacket, checkPairing, checkVectorCase, hex, openSshVectors, toHex, suitesFor } from "./harness.js";
import { NOBLE_SUITE } from "../../src/ssh/crypto/noble-primitives.js";

// RFC 8439 uses a 96-bit nonce and 32-bit counter; the original ChaCha20 used by OpenSSH has a
// 64-bit nonce and 64-bit counter over the same state words. When the first 4 bytes of the RFC
// nonce are zero the two agree, so these vectors hold for chacha20orig with the last 8 bytes.
describe("noble primitives as used for chacha20-poly1305@openssh.com (RFC 8439 vectors)", () => {
  const key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

  it("§2.4.2: ChaCha20 encryption with block counter 1", () => {
    const plaintext = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const out = chacha20orig(key, hex("0000004a00000000"), plaintext, undefined, 1);
    expect(toHex(out)).toBe(
      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b357" +
        "1639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
        "5af90bbf74a35be6b40b8eedf2785e42874d",
    );
  });

  it("§2.5.2: Poly1305 tag", () => {
    const polyKey = hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
    const tag = poly1305(new TextEncoder().encode("Cryptographic Forum Research Group"), polyKey);
    expect(toHex(tag)).toBe("a8061dc1305136c6c22b8baf0c0127a9");
  });

  it("§2.6.2: Poly1305 key = first 32 bytes of the counter-0 keystream", () => {
    const k = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    const polyKey = chacha20orig(k, hex("0001020304050607"), new Uint8Array(32), undefined, 0);
    expect(toHex(polyKey)).toBe("8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646");
  });
});

describe("chacha20-poly1305@openssh.com", () => {
  it("matches the independent OpenSSL-based reference (test/vectors/openssh-packets.py), short packets and data-sized ones", async () => {
    const cases = openSshVectors((v) => v.cipher === CHACHA20_POLY1305.name);
    expect(cases.map((c) => Math.max(...c.packets.map((p) => p.plain.length / 2)))).toEqual([180, 40012]);
    for (const c of cases) {
      for (const [, suite] of await suitesFor(CHACHA20_POLY1305, undefined)) await checkVectorCase(c, CHACHA20_POLY1305, undefined, suite);
    }
  });

  it("has the PROTOCOL.chacha20poly1305 shape", () => {
    const keys = { key: new Uint8Array(64), iv: new Uint8Array(0), macKey: new Uint8Array(0) };
    const opener = CHACHA20_POLY1305.createOpener(keys, undefined, NOBLE_SUITE);
    expect([CHACHA20_POLY1305.keyLength, CHACHA20_POLY1305.aead, opener.blockSize, opener.macLength]).toEqual([64, true, 8, 16]);
    expect([opener.headerLength, opener.lengthExcludedFromPadding]).toEqual([4, true]);
  });

  it("encrypts the length with K_1 (second half) and the body with K_2 (first half)", async () => {
    const key = hex("11".repeat(32) + "22".repeat(32));
    const sealer = CHACHA20_POLY1305.createSealer({ key, iv: new Uint8Array(0), macKey: new Uint8Array(0) }, undefined, NOBLE_SUITE);
    const packet = buildPacket(new Uint8Array([1, 2, 3]), 8, true);
    const wire = await sealer.seal(9, packet.slice());
    const nonce = hex("0000000000000009");
    expect(toHex(wire.subarray(0, 4))).toBe(toHex(chacha20orig(key.subarray(32), nonce, packet.subarray(0, 4))));
    expect(toHex(wire.subarray(4, packet.length))).toBe(toHex(chacha20orig(key.subarray(0, 32), nonce, packet.subarray(4), undefined, 1)));
  });

  it("rejects a packet whose size does not match its decrypted length", async () => {
    const keys = { key: new Uint8Array(64).fill(5), iv: new Uint8Array(0), macKey: new Uint8Array(0) };
    const wire = await CHACHA20_POLY1305.createSealer(keys, undefined, NOBLE_SUITE).seal(0, buildPacket(new Uint8Array(10), 8, true));
    const opener = CHACHA20_POLY1305.createOpener(keys, undefined, NOBLE_SUITE);
    expect(() => opener.open(0, wire.subarray(0, wire.length - 1))).toThrow(ProtocolError);
    expect(() => opener.packetLength(0, wire.subarray(0, 3))).toThrow(ProtocolError);
  });

  it("seals full-size packets (where node:crypto's Poly1305 is built from its AEAD) to the same bytes on every backend, and each opens the others'", async () => {
    const named = await suitesFor(CHACHA20_POLY1305, undefined);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.oneof(fc.integer({ min: 6000, max: 40_000 }), fc.constantFrom(32_768, 262_144 - 32)),
        fc.nat(),
        fc.oneof(fc.nat(1000), fc.integer({ min: 0xfffffff0, max: 0xffffffff })),
        async (key, size, fill, seq) => {
          const keys = { key, iv: new Uint8Array(0), macKey: new Uint8Array(0) };
          const payload = Uint8Array.from({ length: size }, (_, i) => (i * 7 + fill) & 0xff);
          const packet = buildPacket(payload, 8, true, fill % 3, fill & 0xff);
          const wires = await Promise.all(named.map(([, suite]) => CHACHA20_POLY1305.createSealer(keys, undefined, suite).seal(seq, packet.slice())));
          for (const wire of wires) expect(toHex(wire)).toBe(toHex(wires[0]!));
          for (const [, suite] of named) {
            const opener = CHACHA20_POLY1305.createOpener(keys, undefined, suite);
            expect(toHex(await opener.open(seq, wires[0]!.slice()))).toBe(toHex(packet.subarray(4)));
            const forged = wires[0]!.slice();
            forged[(fill * 13) % forged.length]! ^= 1 << (fill % 8);
            expect(() => CHACHA20_POLY1305.createOpener(keys, undefined, suite).open(seq, forged)).toThrow(ProtocolError);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("round-trips, agrees across backends, rejects any flipped bit, reads lengths without side effects", async () => {
    await checkPairing(CHACHA20_POLY1305, undefined, 30);
  });
});
