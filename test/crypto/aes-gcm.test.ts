import { describe, expect, it } from "vitest";
import { gcm } from "@noble/ciphers/aes.js";
import { gcm as webGcm } from "@noble/ciphers/webcrypto.js";
import { AES128_GCM, AES256_GCM } from "../../src/ssh/crypto/aes-gcm.js";
import { ProtocolError } from "../../src/errors.js";
import { buildPacket, checkPairing, checkVectorCase, hex, openSshVectors, settle, toHex, suitesFor, suiteNamed } from "./harness.js";
import { NOBLE_SUITE } from "../../src/ssh/crypto/noble-primitives.js";

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 1, 2, 4 and 16.
const P60 =
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const GCM_CASES = [
  { name: "TC1", key: "00".repeat(16), iv: "00".repeat(12), p: "", a: "", c: "", t: "58e2fccefa7e3061367f1d57a4e7455a" },
  {
    name: "TC2",
    key: "00".repeat(16),
    iv: "00".repeat(12),
    p: "00".repeat(16),
    a: "",
    c: "0388dace60b6a392f328c2b971b2fe78",
    t: "ab6e47d42cec13bdf53a67b21257bddf",
  },
  {
    name: "TC4",
    key: "feffe9928665731c6d6a8f9467308308",
    iv: "cafebabefacedbaddecaf888",
    p: P60,
    a: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    c: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
    t: "5bc94fbc3221a5db94fae95ae7121a47",
  },
  {
    name: "TC16",
    key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    iv: "cafebabefacedbaddecaf888",
    p: P60,
    a: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    c: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    t: "76fc6ece0f4e1768cddf8853bb2d551b",
  },
];

describe("noble AES-GCM as used here (McGrew–Viega vectors)", () => {
  for (const v of GCM_CASES) {
    it(`${v.name}: sync and WebCrypto agree with the published ciphertext and tag`, async () => {
      const aad = v.a ? hex(v.a) : undefined;
      expect(toHex(gcm(hex(v.key), hex(v.iv), aad).encrypt(hex(v.p)))).toBe(v.c + v.t);
      expect(toHex(await webGcm(hex(v.key), hex(v.iv), aad).encrypt(hex(v.p)))).toBe(v.c + v.t);
    });
  }
});

describe.each([AES128_GCM, AES256_GCM])("$name", (cipher) => {
  it("matches the independent OpenSSL-based reference, including the 2^64 counter wrap", async () => {
    const [c] = openSshVectors((v) => v.cipher === cipher.name);
    for (const [, suite] of await suitesFor(cipher, undefined)) await checkVectorCase(c!, cipher, undefined, suite);
  });

  it("uses fixed || counter from the IV and advances the counter once per packet (RFC 5647 §7.1)", async () => {
    const key = new Uint8Array(cipher.keyLength).fill(7);
    const iv = hex("0a0b0c0d00000000000000ff");
    const sealer = cipher.createSealer({ key, iv, macKey: new Uint8Array(0) }, undefined, NOBLE_SUITE);
    const packet = buildPacket(new Uint8Array(20), 16, true);
    await sealer.seal(0, packet.slice());
    const second = await sealer.seal(1, packet.slice());
    const expected = gcm(key, hex("0a0b0c0d0000000000000100"), packet.subarray(0, 4)).encrypt(packet.subarray(4));
    expect(toHex(second)).toBe(toHex(packet.subarray(0, 4)) + toHex(expected));
  });

  it.each(["webcrypto", "native", "auto"] as const)("keeps nonce order for concurrent seal() and open() calls (%s)", async (name) => {
    const suite = await suiteNamed(name);
    if (!suite) return; // no WebCrypto on this runtime
    const keys = { key: new Uint8Array(cipher.keyLength).fill(3), iv: new Uint8Array(12).fill(9), macKey: new Uint8Array(0) };
    const packets = [1, 50, 3, 200].map((n) => buildPacket(new Uint8Array(n).fill(n), 16, true));
    const pure = cipher.createSealer(keys, undefined, NOBLE_SUITE);
    const want: string[] = [];
    for (const [i, p] of packets.entries()) want.push(toHex(await pure.seal(i, p.slice())));
    const auto = cipher.createSealer(keys, undefined, suite);
    const sealed = await Promise.all(packets.map((p, i) => auto.seal(i, p.slice())));
    expect(sealed.map(toHex)).toEqual(want);
    const opener = cipher.createOpener(keys, undefined, suite);
    const opened = await Promise.all(sealed.map((w, i) => opener.open(i, w)));
    expect(opened.map(toHex)).toEqual(packets.map((p) => toHex(p.subarray(4))));
  });

  it("rejects a wrong-size packet and a bad tag with ProtocolError on both backends", async () => {
    const keys = { key: new Uint8Array(cipher.keyLength), iv: new Uint8Array(12), macKey: new Uint8Array(0) };
    for (const [, backend] of await suitesFor(cipher, undefined)) {
      const wire = await cipher.createSealer(keys, undefined, backend).seal(0, buildPacket(new Uint8Array(9), 16, true));
      const short = cipher.createOpener(keys, undefined, backend);
      await expect(settle(() => short.open(0, wire.subarray(0, wire.length - 16)))).rejects.toBeInstanceOf(ProtocolError);
      const forged = wire.slice();
      forged[forged.length - 1]! ^= 0x80;
      const opener = cipher.createOpener(keys, undefined, backend);
      await expect(settle(() => opener.open(0, forged))).rejects.toMatchObject({ code: "BAD_MAC" });
    }
  });

  it("round-trips, agrees across backends, rejects any flipped bit, reads lengths without side effects", async () => {
    await checkPairing(cipher, undefined, 25);
  });
});
