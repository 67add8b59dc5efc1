/**
 * Every primitive in pure TypeScript on noble: what `crypto: "pure"` uses throughout, and the
 * fallback for anything the runtime lacks or gets wrong.
 */
import { ctr, gcm } from "@noble/ciphers/aes.js";
import { chacha20orig } from "@noble/ciphers/chacha.js";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { hmac } from "@noble/hashes/hmac.js";
import { md5, sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import type { ChachaKey, CryptoSuite, CtrStream, GcmKey, HashName, HmacKey, PolyKey } from "./primitives.js";
import { uninitialized } from "../../platform/memory.js";

const NOBLE = "noble" as const;
const BLOCK = 16;

export function nobleGcm(rawKey: Uint8Array): GcmKey {
  const key = rawKey.slice();
  return {
    implementation: NOBLE,
    seal(nonce, aad, plain, into) {
      into.set(gcm(key, nonce, aad).encrypt(plain));
    },
    open: (nonce, aad, sealed) => gcm(key, nonce, aad).decrypt(sealed),
  };
}

/**
 * RFC 4344 §4's counter for stateless AES-CTR calls (noble, WebCrypto): `take(blocks)` returns
 * the counter for the next `blocks` blocks and advances it mod 2^128, at the call, so calls
 * whose results come back later still get consecutive stretches of the stream.
 */
export function ctrCounter(iv: Uint8Array): (blocks: number) => Uint8Array {
  const counter = iv.slice(0, BLOCK);
  return (blocks) => {
    const start = counter.slice();
    let carry = blocks;
    for (let i = BLOCK - 1; i >= 0 && carry > 0; i--) {
      const sum = counter[i]! + (carry % 256);
      counter[i] = sum & 0xff;
      carry = Math.floor(carry / 256) + (sum >> 8);
    }
    return start;
  };
}

/** noble's AES-CTR from `start`, in place where noble can write (it needs 4-byte-aligned output). */
export function nobleCtrAt(key: Uint8Array, start: Uint8Array, data: Uint8Array): Uint8Array {
  return ctr(key, start).encrypt(data, data.byteOffset % 4 === 0 ? data : undefined);
}

export function nobleCtr(rawKey: Uint8Array, iv: Uint8Array): CtrStream {
  const key = rawKey.slice();
  const take = ctrCounter(iv);
  const xor = (data: Uint8Array) => nobleCtrAt(key, take(data.length / BLOCK), data);
  return { implementation: NOBLE, xor, xorSync: xor };
}

export function nobleChacha20(rawKey: Uint8Array): ChachaKey {
  const key = rawKey.slice();
  return {
    implementation: NOBLE,
    stream(nonce) {
      let counter = 0;
      return {
        xor(data, into = uninitialized(data.length)) {
          chacha20orig(key, nonce, data, into, counter);
          counter += Math.ceil(data.length / 64);
          return into;
        },
      };
    },
  };
}

/**
 * noble's Poly1305 state with its block function, which is a plain method of the class (private
 * only in the type declarations). Pinned @noble/ciphers version; the RFC 8439 and OpenSSH
 * vectors in the tests catch any change.
 */
interface Poly1305Blocks {
  process(data: Uint8Array, offset: number): void;
  update(data: Uint8Array): Poly1305Blocks;
  digestInto(out: Uint8Array): void;
  destroy(): void;
}

const POLY_BLOCK = 16;

/** Poly1305 of `data` under `oneTimeKey` (32 bytes), written to `out`. */
export function noblePoly1305Tag(oneTimeKey: Uint8Array, data: Uint8Array, out: Uint8Array): void {
  const mac = poly1305.create(oneTimeKey.subarray(0, 32)) as unknown as Poly1305Blocks;
  // Poly1305.update() copies its whole input first (a fresh 32-256 KiB buffer per packet, a
  // third of all download allocations). The full blocks go straight to the block function
  // instead, which only reads them; update() takes the short tail as usual.
  const full = data.length - (data.length % POLY_BLOCK);
  for (let off = 0; off < full; off += POLY_BLOCK) mac.process(data, off);
  mac.update(data.subarray(full)).digestInto(out);
  mac.destroy(); // wipes the one-time key's state
}

/** noble needs only the one-time key, so one object serves every ChaCha20 key. */
const NOBLE_POLY1305: PolyKey = Object.freeze({
  implementation: NOBLE,
  tag: (_nonce: Uint8Array, oneTimeKey: Uint8Array, data: Uint8Array, out: Uint8Array) => noblePoly1305Tag(oneTimeKey, data, out),
});

export const noblePoly1305 = (_chachaKey: Uint8Array): PolyKey => NOBLE_POLY1305;

const HASHES = { sha1, sha256, sha512 } as const;

export function nobleHmac(hash: HashName, key: Uint8Array): HmacKey {
  // The keyed inner/outer states are computed once; each MAC clones them, so the per-packet
  // cost is the hashing of the packet alone.
  const keyed = hmac.create(HASHES[hash], key);
  const work = keyed.clone();
  const length = HASHES[hash].outputLen;
  return {
    implementation: NOBLE,
    length,
    mac(head, body) {
      keyed._cloneInto(work);
      const out = new Uint8Array(length);
      work.update(head).update(body).digestInto(out);
      return out;
    },
  };
}

/** MD5 (RFC 1321), for ftrack.server's checksums and part ETags (not for SSH). */
export const nobleMd5 = (data: Uint8Array): Uint8Array => md5(data);

/** `crypto: "pure"`. */
export const NOBLE_SUITE: CryptoSuite = Object.freeze({
  gcm: nobleGcm,
  ctr: nobleCtr,
  chacha20: nobleChacha20,
  poly1305: noblePoly1305,
  hmac: nobleHmac,
});
