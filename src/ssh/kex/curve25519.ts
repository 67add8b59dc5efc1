/**
 * curve25519-sha256 and its pre-standard name curve25519-sha256@libssh.org (RFC 8731): ECDH
 * over X25519 with the message flow and exchange hash of RFC 5656 §4 — Q_C and Q_S are 32-byte
 * strings, K is the X25519 output read as a big-endian unsigned integer, encoded as an mpint.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import type { KexMethod } from "./kex.js";
import { ProtocolError } from "../../errors.js";
import { checkPeer, initReplyMethod, mpintSecret, useOnce, type RandomFn } from "./exchange-hash.js";

export const X25519_KEY_BYTES = 32;

/** A fresh X25519 key pair from `random`; the caller zeroes `secretKey` once it is used. */
export function x25519KeyPair(random: RandomFn): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = random(X25519_KEY_BYTES);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/**
 * The raw 32-byte X25519 shared secret with a peer's public key. RFC 8731 §3: public keys must
 * be exactly 32 bytes and an all-zero result (from a low-order peer key) must abort the
 * exchange. noble already refuses low-order inputs; the zero check stays as the RFC's own test.
 */
export function x25519Shared(secretKey: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  if (peerPublic.length !== X25519_KEY_BYTES) {
    throw new ProtocolError(`curve25519 public key must be 32 bytes, got ${peerPublic.length}`);
  }
  const shared = checkPeer("curve25519 public key", () => x25519.getSharedSecret(secretKey, peerPublic));
  if (shared.every((b) => b === 0)) throw new ProtocolError("curve25519 shared secret is all zero");
  return shared; // the caller's to zero (mpintSecret does)
}

/** Builds the method under `name`; `random` is injectable for known-answer tests. */
export function curve25519Method(name: string, random: RandomFn = randomBytes): KexMethod {
  return initReplyMethod<Uint8Array, Uint8Array>({
    name,
    hash: (d) => sha256(d),
    writePublic: (w, q) => void w.string(q),
    readPublic: (r) => {
      const q = r.string().slice();
      if (q.length !== X25519_KEY_BYTES) {
        throw new ProtocolError(`curve25519 public key must be 32 bytes, got ${q.length}`);
      }
      return q;
    },
    clientKey: () => {
      const { secretKey, publicKey } = x25519KeyPair(random);
      return { secret: secretKey, value: publicKey };
    },
    serverRespond: (qc) => {
      const { secretKey, publicKey } = x25519KeyPair(random);
      return { value: publicKey, sharedSecret: useOnce(secretKey, (k) => mpintSecret(x25519Shared(k, qc))) };
    },
    clientFinish: (secret, qs) => useOnce(secret, (k) => mpintSecret(x25519Shared(k, qs))),
  });
}

export const CURVE25519_SHA256 = curve25519Method("curve25519-sha256");
export const CURVE25519_SHA256_LIBSSH = curve25519Method("curve25519-sha256@libssh.org");
