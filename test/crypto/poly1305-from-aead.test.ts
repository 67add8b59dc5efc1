/**
 * Poly1305 built from an RFC 8439 AEAD's tags (poly1305-from-aead.ts) equals Poly1305 itself.
 * The arithmetic is checked on every runtime over noble's AEAD, and over node:crypto's where
 * the runtime has one (Node, Deno; not Bun).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chacha20orig, chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { checkChachaPolyAad, checkPoly1305 } from "../../src/ssh/crypto/known-answers.js";
import { nativeChachaPolyAad } from "../../src/platform/native-crypto.js";
import { AEAD_MIN_LENGTH, poly1305FromAead } from "../../src/ssh/crypto/poly1305-from-aead.js";
import type { ChachaPolyAadKey } from "../../src/ssh/crypto/primitives.js";
import { cryptoSupport } from "../../src/ssh/crypto/suite.js";
import { hex, toHex } from "./harness.js";

const runtime = (globalThis as { Deno?: unknown }).Deno ? "deno" : (globalThis as { Bun?: unknown }).Bun ? "bun" : "node";

/** RFC 8439's AEAD on noble, as a ChachaPolyAadKey: the construction's math without node:crypto. */
const nobleAead = (key: Uint8Array): ChachaPolyAadKey => ({
  implementation: "noble",
  tag: (nonce, aad) => chacha20poly1305(key, nonce, aad).encrypt(new Uint8Array(0)),
});

/** Counts the AEAD's calls. */
function counted(make: (key: Uint8Array) => ChachaPolyAadKey) {
  const calls = { n: 0 };
  return {
    calls,
    make: (key: Uint8Array): ChachaPolyAadKey => {
      const inner = make(key);
      return { implementation: inner.implementation, tag: (nonce, aad) => (calls.n++, inner.tag(nonce, aad)) };
    },
  };
}

const oneTimeKey = (key: Uint8Array, nonce: Uint8Array) => chacha20orig(key, nonce, new Uint8Array(32));

/** Lengths that hit every tail length and block boundary, and packet sizes SSH uses. */
const lengthArb = fc.oneof(
  fc.integer({ min: 17, max: 200 }),
  fc.integer({ min: 2, max: 300 }).map((blocks) => blocks * 16),
  fc.integer({ min: 1, max: 300 }).chain((blocks) => fc.integer({ min: 1, max: 15 }).map((t) => blocks * 16 + t)),
  fc.constantFrom(17, 31, 32, 33, 32768 + 4 + 16, 262144 + 4, 262144 + 12),
);

const never = () => {
  throw new Error("fell back to noble: the construction found no candidate");
};

async function agreesWithPoly1305(make: (key: Uint8Array) => ChachaPolyAadKey, numRuns: number): Promise<void> {
  await fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), lengthArb, fc.nat(), (key, nonce, length, seed) => {
      const data = Uint8Array.from({ length }, (_, i) => (i * 131 + seed) & 0xff);
      const otk = oneTimeKey(key, nonce);
      const out = new Uint8Array(16);
      poly1305FromAead(make(key), 0, never).tag(nonce, otk, data, out);
      expect(toHex(out)).toBe(toHex(poly1305(data, otk)));
    }),
    { numRuns },
  );
}

describe("Poly1305 from an RFC 8439 AEAD", () => {
  it("equals Poly1305 on random keys, nonces and lengths (noble's AEAD underneath)", async () => {
    await agreesWithPoly1305(nobleAead, 150);
  });

  it.skipIf(runtime === "bun")("equals Poly1305 on random keys, nonces and lengths (node:crypto's AEAD underneath)", async () => {
    await agreesWithPoly1305(nativeChachaPolyAad, 400);
  });

  it("agrees with RFC 8439 §2.8.2's AEAD tag, which is Poly1305 over the padded AAD, ciphertext and lengths", () => {
    // §2.8.2: the one-time key comes from block 0 under this key and nonce (§2.6), and the tag
    // covers aad || pad || ciphertext || pad || le64(12) || le64(114). Rebuilding that message
    // and taking its Poly1305 through the construction must give the RFC's tag.
    const key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    const nonce = hex("0001020304050607"); // the RFC's nonce is 07000000 4041424344454647: not this layout
    const ietf = hex("070000004041424344454647");
    const aad = hex("50515253c0c1c2c3c4c5c6c7");
    const ciphertext = hex(
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b" +
        "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
        "3ff4def08e4b7a9de576d26586cec64b6116",
    );
    const mac = new Uint8Array(16 + 128 + 16);
    mac.set(aad);
    mac.set(ciphertext, 16);
    new DataView(mac.buffer).setBigUint64(144, BigInt(aad.length), true);
    new DataView(mac.buffer).setBigUint64(152, BigInt(ciphertext.length), true);
    // The construction takes an 8-byte nonce in the original layout; build an AEAD whose
    // 12-byte nonce is the RFC's, ignoring the 4 zero bytes the construction puts first.
    const rfcAead: ChachaPolyAadKey = { implementation: "noble", tag: (_n, a) => chacha20poly1305(key, ietf, a).encrypt(new Uint8Array(0)) };
    const otk = hex("7bac2b252db447af09b67a55a4e955840ae1d6731075d9eb2a9375783ed553ff"); // §2.8.2's one-time key
    const out = new Uint8Array(16);
    poly1305FromAead(rfcAead, 0, never).tag(nonce, otk, mac, out);
    expect(toHex(out)).toBe("1ae10b594f09e26a7e902ecbd0600691");
  });

  it("leaves short messages to noble, below the threshold, and uses two AEAD calls above it", () => {
    const { calls, make } = counted(nobleAead);
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(8).fill(1);
    const otk = oneTimeKey(key, nonce);
    const poly = poly1305FromAead(make(key));
    const out = new Uint8Array(16);
    for (const n of [0, 1, 16, 17, AEAD_MIN_LENGTH - 1]) {
      const data = new Uint8Array(n).fill(n & 0xff);
      poly.tag(nonce, otk, data, out);
      expect(toHex(out), `${n} bytes`).toBe(toHex(poly1305(data, otk)));
    }
    expect(calls.n).toBe(0);
    const data = new Uint8Array(AEAD_MIN_LENGTH).fill(3);
    poly.tag(nonce, otk, data, out);
    expect(toHex(out)).toBe(toHex(poly1305(data, otk)));
    expect(calls.n).toBe(2);
  });

  it("still answers right over an AEAD that answers wrong (falls back to noble), and the checks refuse that AEAD", async () => {
    const wrong = (key: Uint8Array): ChachaPolyAadKey => ({
      implementation: "node:crypto",
      tag: (nonce, aad) => nobleAead(key).tag(nonce, aad.subarray(0, Math.max(0, aad.length - 1))),
    });
    const key = new Uint8Array(32).fill(9);
    const nonce = new Uint8Array(8).fill(2);
    const otk = oneTimeKey(key, nonce);
    const data = new Uint8Array(5000).fill(0x5a);
    const out = new Uint8Array(16);
    poly1305FromAead(wrong(key), 0).tag(nonce, otk, data, out);
    expect(toHex(out)).toBe(toHex(poly1305(data, otk)));
    expect(await checkChachaPolyAad(wrong)).toBe(false);
    expect(await checkChachaPolyAad(nobleAead)).toBe(true);
    expect(await checkPoly1305((key) => poly1305FromAead(nobleAead(key)))).toBe(true);
  });

  it("is what node:crypto's Poly1305 is made of on this runtime, where it exists", async () => {
    const s = await cryptoSupport();
    expect(s.native.poly1305).toBe(runtime !== "bun");
  });
});
