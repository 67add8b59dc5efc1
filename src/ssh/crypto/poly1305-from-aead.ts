/**
 * Poly1305 (RFC 8439 §2.5) from the runtime's AEAD_CHACHA20_POLY1305 (RFC 8439 §2.8), the only
 * place node:crypto computes Poly1305. Over a 32 KiB packet on Node 20 here it takes ~16 µs
 * against noble's ~80 µs (256 KiB: 67 against 636), and Poly1305 was most of what
 * chacha20-poly1305@openssh.com cost a downloading client once ChaCha20 ran natively.
 *
 * Notation of RFC 8439 §2.5.1: p = 2^130 - 5. A message is cut into 16-byte blocks, each read as
 * a little-endian number with a 0x01 byte on top (c = block + 2^(8·length)). The accumulator
 * runs acc ← (acc + c)·r mod p from 0, and the tag is (acc + s) mod 2^128, where r (clamped)
 * and s are the halves of the one-time key.
 *
 * The AEAD with an AAD A of whole blocks and no plaintext MACs A || L, L being the length block
 * le64(|A|) || le64(0) (§2.8: neither part needs padding). Its tag therefore gives
 * acc(A || L) = (acc(A) + c_L)·r, less the top two bits: the tag is acc + s mod 2^128, and up to
 * four values below p fit it.
 *
 * For a message M = P || T, with P whole blocks and T the last 1-16 bytes:
 *   acc(M) = (acc(P) + c_T)·r = acc(P || L) + (c_T - c_L)·r                      (mod p)
 * A second AEAD over P', which is P without its last block B, pins acc(P || L) down:
 *   acc(P) = acc(P' || L') + (c_B - c_L')·r,   acc(P || L) = (acc(P) + c_L)·r      (mod p)
 * Of the candidates for acc(P' || L'), the true one is the one whose acc(P || L) matches the
 * first tag. A wrong one differs from it by k·2^128 (k = 1..3), and its acc(P || L) by
 * k·2^128·r² mod p, which agrees mod 2^128 by chance about once in 2^128.
 *
 * The arithmetic is BigInt, which is not constant-time, on the one-time key (r, s). Each such
 * key serves one packet only, and a packet that fails its check ends the connection, so what a
 * timing could tell about a key is of no use against any later packet (the same reasoning as
 * RFC 8439 §4's for the one-time key).
 */
import { noblePoly1305Tag } from "./noble-primitives.js";
import type { ChachaPolyAadKey, PolyKey } from "./primitives.js";

const BLOCK = 16;
const P = (1n << 130n) - 5n;
const TWO_128 = 1n << 128n;
const LOW_128 = TWO_128 - 1n;
const CLAMP = 0x0ffffffc0ffffffc0ffffffc0fffffffn; // RFC 8439 §2.5: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff

/**
 * Below this, noble's Poly1305 is as fast: the construction's fixed cost is ~10 µs (two cipher
 * objects ~3.5 µs each, the BigInt steps ~2 µs) against noble's ~2.5 µs per KiB, measured on
 * Node 20 here (break-even between 2.5 and 8 KiB). Full SSH data packets are 32 KiB and more.
 */
export const AEAD_MIN_LENGTH = 6144;

const mod = (x: bigint): bigint => {
  const m = x % P;
  return m < 0n ? m + P : m;
};

/** 16 bytes at `offset` as a little-endian number. */
function le128(bytes: Uint8Array, offset: number): bigint {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, BLOCK);
  return v.getBigUint64(0, true) | (v.getBigUint64(8, true) << 64n);
}

/** c for a block of 1-16 bytes: the bytes little-endian with 0x01 above the last (§2.5.1). */
function blockValue(bytes: Uint8Array, scratch: Uint8Array): bigint {
  scratch.fill(0);
  scratch.set(bytes);
  scratch[bytes.length] = 1;
  return le128(scratch, 0) | (BigInt(scratch[BLOCK]!) << 128n);
}

/** c_L for an AAD of `aadLength` bytes and no ciphertext: le64(aadLength) || le64(0), plus 2^128. */
const lengthBlock = (aadLength: number): bigint => TWO_128 | BigInt(aadLength);

/**
 * acc(P || L) from the AEAD's tags over P (`whole`) and over P' (`shorter`), or undefined when
 * no candidate fits: an AEAD answering wrong, which the caller must not trust.
 */
function pinAccumulator(whole: bigint, shorter: bigint, r: bigint, s: bigint, cB: bigint, pLength: number): bigint | undefined {
  const cL = lengthBlock(pLength);
  const cLShort = lengthBlock(pLength - BLOCK);
  const low = (shorter - s) & LOW_128;
  for (let k = 0n; k < 4n; k++) {
    const accShort = low + k * TWO_128;
    if (accShort >= P) break;
    const accP = mod(accShort + (cB - cLShort) * r);
    const accPL = mod((accP + cL) * r);
    if (((accPL + s) & LOW_128) === whole) return accPL;
  }
  return undefined;
}

/** Writes `value` (below 2^128) as 16 little-endian bytes. */
function writeLe128(value: bigint, out: Uint8Array): void {
  const v = new DataView(out.buffer, out.byteOffset, BLOCK);
  v.setBigUint64(0, value & 0xffffffffffffffffn, true);
  v.setBigUint64(8, value >> 64n, true);
}

type TagFunction = (oneTimeKey: Uint8Array, data: Uint8Array, out: Uint8Array) => void;

/**
 * A PolyKey on `aead` (keyed with the ChaCha20 key whose block 0 makes the one-time keys).
 * Messages shorter than `minLength` go to `fallback` (noble), which is faster there; the
 * construction needs at least 17 bytes (P' may be empty, P may not). So does a message whose
 * AEAD tags fit no candidate, which only an AEAD answering wrong can cause.
 */
export function poly1305FromAead(aead: ChachaPolyAadKey, minLength = AEAD_MIN_LENGTH, fallback: TagFunction = noblePoly1305Tag): PolyKey {
  // RFC 8439 §2.3's state words 13-15 take the 12-byte nonce; the original ChaCha20's 64-bit
  // counter is words 12-13 and its nonce words 14-15. With the counter at 0 (block 0 makes the
  // one-time key) the states agree when the 12-byte nonce is 4 zero bytes, then the 8-byte one.
  const nonce12 = new Uint8Array(12);
  const scratch = new Uint8Array(BLOCK + 1);
  const threshold = Math.max(minLength, BLOCK + 1);
  return {
    implementation: aead.implementation,
    tag(nonce, oneTimeKey, data, out) {
      if (data.length < threshold) return fallback(oneTimeKey, data, out);
      nonce12.set(nonce, 4);
      const tLength = data.length % BLOCK || BLOCK;
      const pLength = data.length - tLength;
      const r = le128(oneTimeKey, 0) & CLAMP;
      const s = le128(oneTimeKey, BLOCK);
      const whole = le128(aead.tag(nonce12, data.subarray(0, pLength)), 0);
      const shorter = le128(aead.tag(nonce12, data.subarray(0, pLength - BLOCK)), 0);
      const cB = blockValue(data.subarray(pLength - BLOCK, pLength), scratch);
      const accPL = pinAccumulator(whole, shorter, r, s, cB, pLength);
      if (accPL === undefined) return fallback(oneTimeKey, data, out);
      const cT = blockValue(data.subarray(pLength), scratch);
      const accM = mod(accPL + (cT - lengthBlock(pLength)) * r);
      writeLe128((accM + s) & LOW_128, out);
    },
  };
}
