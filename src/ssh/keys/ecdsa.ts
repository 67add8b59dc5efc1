/**
 * ecdsa-sha2-nistp256/384/521 keys and signatures (RFC 5656 §3.1). The key blob is string name,
 * string curve id, string Q (SEC1 point); the signature body is string(mpint r || mpint s). The
 * hash follows the curve size (RFC 5656 §6.2.1): SHA-256, SHA-384, SHA-512 — the same hashes
 * noble's p256/p384/p521 apply with their default `prehash: true`.
 */
import { p256, p384, p521 } from "@noble/curves/nist.js";
import type { ECDSA } from "@noble/curves/abstract/weierstrass.js";
import { ProtocolError, SshError } from "../../errors.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { bigIntToBytes, bytesEqual, bytesToBigInt } from "./bigint.js";
import type { KeySigner } from "./key-common.js";
import type { KeyVerifier } from "./public-key.js";

interface Curve {
  readonly id: string;
  readonly impl: ECDSA;
  /** The curve's object identifier (RFC 5480 §2.1.1.1 namedCurve), dotted. */
  readonly oid: string;
}

const CURVES: Record<string, Curve> = {
  "ecdsa-sha2-nistp256": { id: "nistp256", impl: p256, oid: "1.2.840.10045.3.1.7" },
  "ecdsa-sha2-nistp384": { id: "nistp384", impl: p384, oid: "1.3.132.0.34" },
  "ecdsa-sha2-nistp521": { id: "nistp521", impl: p521, oid: "1.3.132.0.35" },
};

export const ECDSA_TYPES = Object.keys(CURVES);

/** The ecdsa-sha2-* key type for a namedCurve OID (secp256r1/384r1/521r1), if supported. */
export function ecdsaTypeForOid(oid: string): string | undefined {
  return ECDSA_TYPES.find((t) => CURVES[t]!.oid === oid);
}

/** Bytes of a private scalar on the curve of `type` (32, 48, 66): SEC1's octet string length. */
export function ecdsaScalarBytes(type: string): number {
  return curveFor(type).impl.Point.Fn.BYTES;
}

function curveFor(type: string): Curve {
  const c = CURVES[type];
  if (!c) throw new ProtocolError(`unsupported key type "${type}"`, "UNSUPPORTED_KEY_TYPE");
  return c;
}

/** RFC 5656 §3.1 public key blob. */
export function ecdsaPublicBlob(type: string, q: Uint8Array): Uint8Array {
  return new SshWriter(q.length + 48).string(type).string(curveFor(type).id).string(q).finish().slice();
}

/**
 * Reads the curve id and Q. Only uncompressed points (0x04 prefix) are accepted, as OpenSSH does,
 * so each key has one blob and one fingerprint; the point must lie on the curve (noble checks).
 */
function readPoint(r: SshReader, type: string, secret = false): { curve: Curve; q: Uint8Array } {
  const curve = curveFor(type);
  const id = r.ascii();
  if (id !== curve.id) {
    // In a private key section the field is not echoed: it could be key material of a corrupt file.
    throw new ProtocolError(secret ? `${type} key names another curve than "${curve.id}"` : `${type} key names curve "${id}", expected "${curve.id}"`);
  }
  const q = r.string();
  if (q.length !== 1 + 2 * curve.impl.Point.Fp.BYTES || q[0] !== 0x04) {
    throw new ProtocolError(`${type} public key is not an uncompressed ${curve.id} point`);
  }
  try {
    curve.impl.Point.fromBytes(q).assertValidity();
  } catch {
    throw new ProtocolError(`${type} public key is not a point on ${curve.id}`);
  }
  return { curve, q: q.slice() };
}

export function readEcdsaPublic(r: SshReader, type: string): KeyVerifier {
  const { curve, q } = readPoint(r, type);
  const algorithms = [type];
  return {
    algorithms,
    async verify(_algorithm, sig, data) {
      const { Fn } = curve.impl.Point;
      let rr: bigint, ss: bigint;
      try {
        const sr = new SshReader(sig, `${type} signature`);
        rr = sr.mpint();
        ss = sr.mpint();
        sr.end();
      } catch {
        return false;
      }
      if (rr <= 0n || ss <= 0n || rr >= Fn.ORDER || ss >= Fn.ORDER) return false;
      const compact = new Uint8Array(Fn.BYTES * 2);
      compact.set(bigIntToBytes(rr, Fn.BYTES), 0);
      compact.set(bigIntToBytes(ss, Fn.BYTES), Fn.BYTES);
      try {
        // lowS: false: OpenSSH (via libcrypto) signs with either half of s; both are valid ECDSA.
        return curve.impl.verify(compact, data, q, { lowS: false });
      } catch {
        return false;
      }
    },
  };
}

/**
 * Reads the private fields of an openssh-key-v1 ECDSA key (PROTOCOL.key): string curve id,
 * string Q, mpint d. Checks d·G = Q so a corrupted file is caught before it signs.
 */
export function readEcdsaPrivate(r: SshReader, type: string): KeySigner {
  const { q } = readPoint(r, type, true);
  return ecdsaSignerFromScalar(type, r.mpint(), q);
}

/**
 * A signer from the private scalar d. `q`, when the file stores the public point (in any SEC1
 * encoding), must equal d·G; without it the point is derived. Throws KEY_FORMAT otherwise.
 */
export function ecdsaSignerFromScalar(type: string, d: bigint, q?: Uint8Array): KeySigner {
  const curve = curveFor(type);
  const { Fn } = curve.impl.Point;
  if (d <= 0n || d >= Fn.ORDER) throw new SshError("KEY_FORMAT", `corrupt ${type} private key: scalar out of range`);
  const secret = bigIntToBytes(d, Fn.BYTES);
  const derived = curve.impl.getPublicKey(secret, false);
  if (q) {
    let same = false;
    try {
      same = bytesEqual(curve.impl.Point.fromBytes(q).toBytes(false), derived);
    } catch {
      same = false;
    }
    if (!same) throw new SshError("KEY_FORMAT", `corrupt ${type} private key: private scalar does not match public point`);
  }
  return {
    algorithms: [type],
    publicBlob: ecdsaPublicBlob(type, derived),
    async sign(_algorithm, data) {
      // RFC 6979 deterministic k (noble's default without extraEntropy): no RNG failure can leak d.
      const compact = curve.impl.sign(data, secret);
      return new SshWriter(Fn.BYTES * 2 + 16)
        .mpint(bytesToBigInt(compact.subarray(0, Fn.BYTES)))
        .mpint(bytesToBigInt(compact.subarray(Fn.BYTES)))
        .finish()
        .slice();
    },
  };
}
