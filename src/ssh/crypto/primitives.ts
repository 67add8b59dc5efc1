/**
 * The primitives the packet ciphers are built from, one interface each, so that a cipher file
 * states the SSH construction once and every backend (node:crypto, WebCrypto, noble) plugs in
 * underneath. A CryptoSuite hands out keyed primitives; suite.ts decides which backend serves
 * which primitive on this runtime.
 */

export type Bytes = Uint8Array | Promise<Uint8Array>;

/** Who computes a primitive: the runtime's node:crypto, its WebCrypto, or noble (pure TypeScript). */
export type Implementation = "node:crypto" | "webcrypto" | "noble";

/** AES-GCM under one key (NIST SP 800-38D), 12-byte nonce, 16-byte tag. */
export interface GcmKey {
  readonly implementation: Implementation;
  /**
   * Encrypts `plain` and writes ciphertext || tag to `into` (plain.length + 16 bytes, which may
   * start at `plain`: the result replaces the plaintext in place).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array, into: Uint8Array): void | Promise<void>;
  /** Checks the tag at the end of `sealed` and returns the plaintext; throws or rejects when it does not verify. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Bytes;
}

/**
 * One direction's AES-CTR keystream (RFC 4344 §4: a 128-bit big-endian counter that runs on
 * across packets). Each call takes the next `data.length` bytes (whole blocks) of the stream, in
 * call order, and returns `data` XOR keystream (in place or in a new buffer).
 */
export interface CtrStream {
  readonly implementation: Implementation;
  /** May answer asynchronously; the stream position is taken synchronously at the call. */
  xor(data: Uint8Array): Bytes;
  /** Always synchronous (for the encrypted packet_length, which the decoder needs at once). */
  xorSync(data: Uint8Array): Uint8Array;
}

/** One nonce's keystream, consumed in order by successive calls. */
export interface ChachaStream {
  /**
   * `data` xor the next `data.length` bytes of keystream, written to `into` (which may be `data`
   * itself) and returned; without `into`, to memory of its own: node:crypto's output as it comes,
   * so an out-of-place decryption costs no second buffer and no copy.
   */
  xor(data: Uint8Array, into?: Uint8Array): Uint8Array;
}

/**
 * Original ChaCha20 (64-bit block counter, 64-bit nonce) as OpenSSH's chacha20-poly1305 uses
 * it. `stream(nonce)` starts the keystream at block 0; each `xor` continues where the last one
 * stopped, and every call but the last of a stream covers whole 64-byte blocks.
 */
export interface ChachaKey {
  readonly implementation: Implementation;
  stream(nonce: Uint8Array): ChachaStream;
}

/**
 * Poly1305 (RFC 8439 §2.5) under one-time keys that ChaCha20 block 0 makes (RFC 8439 §2.6;
 * OpenSSH's chacha20-poly1305 derives its key the same way). Keyed by the ChaCha20 key, not the
 * one-time key, because the only Poly1305 node:crypto has sits inside its RFC 8439 AEAD, which
 * derives the one-time key itself (poly1305-from-aead.ts).
 */
export interface PolyKey {
  readonly implementation: Implementation;
  /**
   * Writes the 16-byte Poly1305(oneTimeKey, data) to `out`. `oneTimeKey` is the first 32 bytes
   * of this ChaCha20 key's block 0 under the 8-byte `nonce` (original ChaCha20 layout); the
   * caller has computed it already.
   */
  tag(nonce: Uint8Array, oneTimeKey: Uint8Array, data: Uint8Array, out: Uint8Array): void;
}

/**
 * RFC 8439 §2.8's AEAD_CHACHA20_POLY1305 under one key, reduced to the one call Poly1305 is
 * built from: the tag over `aad` alone, with no plaintext, under a 12-byte nonce.
 */
export interface ChachaPolyAadKey {
  readonly implementation: Implementation;
  tag(nonce: Uint8Array, aad: Uint8Array): Uint8Array;
}

export type HashName = "sha1" | "sha256" | "sha512";

/** HMAC (RFC 2104) under one key: the MAC of `head || body`. */
export interface HmacKey {
  readonly implementation: Implementation;
  readonly length: number;
  mac(head: Uint8Array, body: Uint8Array): Uint8Array;
}

/** Keyed primitives from the backends chosen for a connection. Keys are copied, never kept by reference. */
export interface CryptoSuite {
  gcm(key: Uint8Array): GcmKey;
  ctr(key: Uint8Array, iv: Uint8Array): CtrStream;
  chacha20(key: Uint8Array): ChachaKey;
  /** Poly1305 for one-time keys made from this ChaCha20 key (see PolyKey). */
  poly1305(chachaKey: Uint8Array): PolyKey;
  hmac(hash: HashName, key: Uint8Array): HmacKey;
}
