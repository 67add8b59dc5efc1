/**
 * The runtime's own synchronous crypto through node:crypto: OpenSSL on Node, BoringSSL on Bun,
 * Rust crates on Deno. The only module that imports node:crypto. Each function builds one keyed
 * primitive and throws when the runtime lacks it (Bun has no raw "chacha20"); whether it also
 * answers right is checked with known-answer vectors by src/ssh/crypto/suite.ts before use.
 *
 * Keys go into KeyObjects (created once per direction): no per-packet key copies, and
 * createCipheriv with a KeyObject skips re-validating raw key bytes. Results come back as plain
 * Uint8Array views of node's Buffers, without copying.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createSecretKey, type KeyObject } from "node:crypto";
import type { ChachaKey, ChachaPolyAadKey, CtrStream, GcmKey, HashName, HmacKey } from "../ssh/crypto/primitives.js";

const NATIVE = "node:crypto" as const;
const TAG = 16;
const DIGEST_LENGTH = { sha1: 20, sha256: 32, sha512: 64 } as const;

const view = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function secret(key: Uint8Array): KeyObject {
  return createSecretKey(key);
}

/** Which runtime provides node:crypto: the per-runtime rules in suite.ts depend on it. */
export function nativeRuntime(): "node" | "deno" | "bun" {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  return "node";
}

/** AES-GCM; a fresh cipher object per packet, as each packet has its own nonce (RFC 5647 §7.1). */
export function nativeGcm(key: Uint8Array): GcmKey {
  const algorithm = `aes-${key.length * 8}-gcm` as "aes-128-gcm" | "aes-256-gcm";
  const k = secret(key);
  return {
    implementation: NATIVE,
    seal(nonce, aad, plain, into) {
      const c = createCipheriv(algorithm, k, nonce, { authTagLength: TAG });
      c.setAAD(aad);
      const body = c.update(plain); // whole before `into` (which may be `plain`) is written
      const last = c.final();
      into.set(body);
      if (last.length > 0) into.set(last, body.length);
      into.set(c.getAuthTag(), plain.length);
    },
    open(nonce, aad, sealed) {
      const end = sealed.length - TAG;
      const d = createDecipheriv(algorithm, k, nonce, { authTagLength: TAG });
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(end));
      const plain = d.update(sealed.subarray(0, end));
      d.final(); // throws when the tag does not verify; the plaintext is then dropped
      return view(plain);
    },
  };
}

/** AES-CTR as one cipher object per direction, streaming across packets as RFC 4344 §4 runs the counter. */
export function nativeCtr(key: Uint8Array, iv: Uint8Array): CtrStream {
  const c = createCipheriv(`aes-${key.length * 8}-ctr`, secret(key), iv);
  const xor = (data: Uint8Array): Uint8Array => view(c.update(data));
  return { implementation: NATIVE, xor, xorSync: xor };
}

/**
 * Original ChaCha20 through OpenSSL's "chacha20", whose 16-byte IV is state words 12-15 in
 * little-endian order: a 32-bit block counter, then 96 bits of nonce. OpenSSH's construction
 * (PROTOCOL.chacha20poly1305) puts a 64-bit counter in words 12-13 and its 8-byte nonce in
 * words 14-15; starting at block 0, word 13 stays 0 for any packet under 256 GiB, so the IV is
 * 8 zero bytes then the nonce bytes as they are.
 */
export function nativeChacha20(key: Uint8Array): ChachaKey {
  const k = secret(key);
  const iv = new Uint8Array(16);
  return {
    implementation: NATIVE,
    stream(nonce) {
      iv.set(nonce, 8);
      const c = createCipheriv("chacha20", k, iv);
      return {
        xor(data, into) {
          const out = view(c.update(data));
          if (!into) return out;
          into.set(out);
          return into;
        },
      };
    },
  };
}

/**
 * RFC 8439's AEAD_CHACHA20_POLY1305 ("chacha20-poly1305" in OpenSSL and Deno; Bun's BoringSSL
 * has no such cipher name) asked only for the tag over an AAD: OpenSSL's Poly1305, the one way
 * node:crypto offers it. src/ssh/crypto/poly1305-from-aead.ts turns two such tags into a plain
 * Poly1305.
 */
export function nativeChachaPolyAad(key: Uint8Array): ChachaPolyAadKey {
  const k = secret(key);
  return {
    implementation: NATIVE,
    tag(nonce, aad) {
      const c = createCipheriv("chacha20-poly1305", k, nonce, { authTagLength: TAG });
      c.setAAD(aad, { plaintextLength: 0 });
      c.final();
      return view(c.getAuthTag());
    },
  };
}

/** HMAC; node's Hmac cannot be cloned, so each MAC starts from the KeyObject. */
export function nativeHmac(hash: HashName, key: Uint8Array): HmacKey {
  const k = secret(key);
  return {
    implementation: NATIVE,
    length: DIGEST_LENGTH[hash],
    mac: (head, body) => view(createHmac(hash, k).update(head).update(body).digest()),
  };
}

/** MD5 (RFC 1321) of `data`; throws where the runtime refuses it (an OpenSSL in FIPS mode). */
export function nativeMd5(data: Uint8Array): Uint8Array {
  return view(createHash("md5").update(data).digest());
}
