/**
 * ecdh-sha2-nistp256 / nistp384 / nistp521 (RFC 5656 §4, §6.1, §7.1). Q_C and Q_S are SEC1
 * uncompressed points carried as strings; K is the x coordinate of the shared point, an mpint.
 * The hash follows the curve size (RFC 5656 §6.2.1): SHA-256, SHA-384, SHA-512.
 */
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { ProtocolError } from "../../errors.js";
import type { KexMethod } from "./kex.js";
import { checkPeer, initReplyMethod, mpintSecret, useOnce, type HashFn, type RandomFn } from "./exchange-hash.js";

type Curve = typeof p256;

/**
 * Checks the peer's point before it reaches noble: RFC 5656 §4 requires the uncompressed form
 * (0x04 || X || Y), which noble would otherwise accept alongside compressed points. Whether the
 * point is on the curve (RFC 5656 §4, SEC1 §3.2.2.1) noble checks when it decodes it.
 */
function readPoint(curve: Curve, q: Uint8Array): Uint8Array {
  const len = curve.lengths.publicKeyUncompressed ?? 0;
  if (q.length !== len || q[0] !== 0x04) {
    throw new ProtocolError(`ECDH public key must be an uncompressed point of ${len} bytes`);
  }
  checkPeer("ECDH public key", () => curve.Point.fromBytes(q));
  return q;
}

/** The shared x coordinate: noble's compressed shared point without its prefix byte. */
function sharedX(curve: Curve, secretKey: Uint8Array, peer: Uint8Array): Uint8Array {
  const point = checkPeer("ECDH public key", () => curve.getSharedSecret(secretKey, peer, true));
  const x = point.slice(1);
  point.fill(0);
  return x;
}

export function ecdhMethod(name: string, curve: Curve, hash: HashFn, random: RandomFn = randomBytes): KexMethod {
  const keyPair = () => {
    const secretKey = useOnce(random(curve.lengths.seed ?? 64), (seed) => curve.utils.randomSecretKey(seed));
    return { secretKey, publicKey: curve.getPublicKey(secretKey, false) };
  };
  return initReplyMethod<Uint8Array, Uint8Array>({
    name,
    hash,
    writePublic: (w, q) => void w.string(q),
    readPublic: (r) => readPoint(curve, r.string().slice()),
    clientKey: () => {
      const { secretKey, publicKey } = keyPair();
      return { secret: secretKey, value: publicKey };
    },
    serverRespond: (qc) => {
      const { secretKey, publicKey } = keyPair();
      return { value: publicKey, sharedSecret: useOnce(secretKey, (k) => mpintSecret(sharedX(curve, k, qc))) };
    },
    clientFinish: (secret, qs) => useOnce(secret, (k) => mpintSecret(sharedX(curve, k, qs))),
  });
}

export const ECDH_SHA2_NISTP256 = ecdhMethod("ecdh-sha2-nistp256", p256, (d) => sha256(d));
export const ECDH_SHA2_NISTP384 = ecdhMethod("ecdh-sha2-nistp384", p384, (d) => sha384(d));
export const ECDH_SHA2_NISTP521 = ecdhMethod("ecdh-sha2-nistp521", p521, (d) => sha512(d));
