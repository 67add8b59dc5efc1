/**
 * ssh-rsa keys (RFC 4253 §6.6: string "ssh-rsa", mpint e, mpint n) with the signature algorithms
 * rsa-sha2-512, rsa-sha2-256 (RFC 8332 §3) and legacy ssh-rsa (SHA-1). All are RSASSA-PKCS1-v1_5
 * (RFC 8017 §8.2) and deterministic, so WebCrypto and the BigInt fallback give identical bytes.
 *
 * Backends: "auto" uses WebCrypto (native, constant-time-ish, fast) when present and falls back to
 * BigInt if the platform refuses the key; "pure" always uses BigInt. BigInt arithmetic is not
 * constant-time, so "pure" signing may leak timing about the private key: prefer "auto".
 */
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { ProtocolError, SshError } from "../../errors.js";
import type { CryptoBackend } from "../crypto/cipher.js";
import { modPow } from "../kex/modpow.js";
import { encodeBase64Url } from "../wire/base64.js";
import type { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { bigIntToBytes, bigIntToMinimalBytes, bitLength, bytesEqual, bytesToBigInt, byteLength } from "./bigint.js";
import type { KeySigner } from "./key-common.js";
import type { KeyVerifier } from "./public-key.js";

export const RSA = "ssh-rsa";
/** Preference order: SHA-512 first as OpenSSH does; SHA-1 last and only on request. */
const ALGORITHMS = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] as const;

/** OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE: smaller keys are factorable and refused outright. */
export const RSA_MIN_BITS = 1024;
/** OpenSSH's SSHBUF_MAX_BIGNUM (2048 bytes); also bounds the BigInt work a peer can cause. */
export const RSA_MAX_BITS = 16384;

interface Hash {
  readonly web: string;
  readonly fn: (data: Uint8Array) => Uint8Array;
  /** DER DigestInfo prefix, RFC 8017 §9.2 note 1. */
  readonly prefix: Uint8Array;
}

const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
const HASHES: Record<string, Hash> = {
  "ssh-rsa": { web: "SHA-1", fn: sha1, prefix: hex("3021300906052b0e03021a05000414") },
  "rsa-sha2-256": { web: "SHA-256", fn: sha256, prefix: hex("3031300d060960864801650304020105000420") },
  "rsa-sha2-512": { web: "SHA-512", fn: sha512, prefix: hex("3051300d060960864801650304020305000440") },
};

function hashFor(algorithm: string): Hash {
  const h = HASHES[algorithm];
  if (!h) throw new SshError("UNSUPPORTED_ALGORITHM", `"${algorithm}" is not an RSA signature algorithm`);
  return h;
}

/**
 * EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 0x00 0x01 FF…FF 0x00 DigestInfo H, k bytes. Verification
 * builds this and compares it whole (the §8.2.2 step 4 option), so no ASN.1 parser is exposed to
 * attacker bytes — the class of Bleichenbacher'06 signature forgeries cannot apply.
 */
function encodeMessage(hash: Hash, data: Uint8Array, k: number): Uint8Array {
  const t = hash.prefix.length + hash.fn(data).length;
  if (k < t + 11) throw new SshError("KEY_FORMAT", "RSA modulus too short for this hash");
  const em = new Uint8Array(k).fill(0xff, 2, k - t - 1);
  em[1] = 0x01;
  em.set(hash.prefix, k - t);
  em.set(hash.fn(data), k - t + hash.prefix.length);
  return em;
}

function subtle(): SubtleCrypto | undefined {
  return globalThis.crypto?.subtle;
}

const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;
const b64u = (v: bigint) => encodeBase64Url(bigIntToMinimalBytes(v));

/** Imports a JWK once per hash; resolves undefined when the platform refuses it (then use BigInt). */
function webKeyCache(jwk: JsonWebKey, usage: KeyUsage): (h: Hash) => Promise<CryptoKey | undefined> {
  const cache = new Map<string, Promise<CryptoKey | undefined>>();
  return (h) => {
    let p = cache.get(h.web);
    if (!p) {
      const s = subtle();
      p = s
        ? s.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: h.web }, false, [usage]).catch(() => undefined)
        : Promise.resolve(undefined);
      cache.set(h.web, p);
    }
    return p;
  };
}

/** RFC 4253 §6.6 public key blob. */
export function rsaPublicBlob(e: bigint, n: bigint): Uint8Array {
  return new SshWriter(byteLength(n) + 32).string(RSA).mpint(e).mpint(n).finish().slice();
}

function checkPublic(e: bigint, n: bigint): void {
  const bits = bitLength(n);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new ProtocolError(`ssh-rsa key has ${bits} bits; ${RSA_MIN_BITS}–${RSA_MAX_BITS} are accepted`);
  }
  // An even n or e has no RSA meaning; e < 3 is insecure. The 32-bit cap (Go's x/crypto/ssh caps
  // at 24) keeps BigInt verification cheap; real keys use 65537.
  if ((n & 1n) === 0n || e < 3n || (e & 1n) === 0n || bitLength(e) > 32) {
    throw new ProtocolError("ssh-rsa key has an invalid modulus or exponent");
  }
}

export function readRsaPublic(r: SshReader): KeyVerifier {
  const e = r.mpint();
  const n = r.mpint();
  checkPublic(e, n);
  const k = byteLength(n);
  const webKey = webKeyCache({ kty: "RSA", n: b64u(n), e: b64u(e), ext: true }, "verify");
  return {
    algorithms: ALGORITHMS,
    async verify(algorithm, sig, data, backend: CryptoBackend) {
      const hash = hashFor(algorithm);
      // RFC 8332 §3: S has the modulus length, but some signers drop leading zeros; OpenSSH
      // left-pads shorter values, so do we. Longer is never valid.
      if (sig.length > k) return false;
      const s = new Uint8Array(k);
      s.set(sig, k - sig.length);
      if (backend !== "pure") { // auto and native: the platform's RSA
        const key = await webKey(hash);
        if (key) {
          try {
            return await subtle()!.verify("RSASSA-PKCS1-v1_5", key, buf(s), buf(data));
          } catch {
            // fall through to the BigInt verifier
          }
        }
      }
      const sv = bytesToBigInt(s);
      if (sv >= n) return false; // RFC 8017 §5.2.2 RSAVP1 step 1
      return bytesEqual(bigIntToBytes(modPow(sv, e, n), k), encodeMessage(hash, data, k));
    },
  };
}

/**
 * Reads the private fields of an openssh-key-v1 RSA key (PROTOCOL.key; note n comes before e
 * here, unlike the public blob): mpint n, e, d, iqmp, p, q. iqmp = q⁻¹ mod p. The checks below
 * are cheap and catch corrupted files before they produce garbage signatures.
 */
export function readRsaPrivate(r: SshReader): KeySigner {
  const [n, e, d, iqmp, p, q] = [r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint()];
  return rsaSignerFromComponents(n, e, d, iqmp, p, q);
}

/**
 * A signer from the RSA private components of any key format (PKCS#1 RSAPrivateKey, PuTTY,
 * openssh-key-v1); iqmp = q⁻¹ mod p as everywhere. Throws KEY_FORMAT unless they are consistent.
 */
export function rsaSignerFromComponents(n: bigint, e: bigint, d: bigint, iqmp: bigint, p: bigint, q: bigint): KeySigner {
  try {
    checkPublic(e, n);
  } catch (err) {
    throw new SshError("KEY_FORMAT", (err as Error).message);
  }
  const dP = p > 1n ? d % (p - 1n) : 0n;
  const dQ = q > 1n ? d % (q - 1n) : 0n;
  if (
    p <= 1n || q <= 1n || d <= 0n || p * q !== n ||
    (iqmp * q) % p !== 1n || (e * dP) % (p - 1n) !== 1n || (e * dQ) % (q - 1n) !== 1n
  ) {
    throw new SshError("KEY_FORMAT", "corrupt ssh-rsa private key: parameters are inconsistent");
  }
  const k = byteLength(n);
  const webKey = webKeyCache(
    { kty: "RSA", n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(p), q: b64u(q), dp: b64u(dP), dq: b64u(dQ), qi: b64u(iqmp), ext: true },
    "sign",
  );
  return {
    algorithms: ALGORITHMS,
    publicBlob: rsaPublicBlob(e, n),
    async sign(algorithm, data, backend: CryptoBackend) {
      const hash = hashFor(algorithm);
      const em = encodeMessage(hash, data, k);
      const m = bytesToBigInt(em);
      let s: Uint8Array | undefined;
      if (backend !== "pure") {
        const key = await webKey(hash);
        if (key) s = new Uint8Array(await subtle()!.sign("RSASSA-PKCS1-v1_5", key, buf(data)));
      }
      if (!s) {
        // RSASP1 with CRT (RFC 8017 §5.1.2 step 2.b): two half-size exponentiations, ~4x faster.
        const m1 = modPow(m % p, dP, p);
        const m2 = modPow(m % q, dQ, q);
        let diff = (m1 - m2) % p;
        if (diff < 0n) diff += p;
        const h = (diff * iqmp) % p; // Garner's recombination, s = m2 + q·h
        s = bigIntToBytes(m2 + h * q, k);
      }
      // Verify before releasing: a CRT fault (bad RAM, bug) would otherwise let anyone who sees
      // the signature factor n (Boneh–DeMillo–Lipton). With e = 65537 this costs ~17 squarings.
      if (s.length !== k || modPow(bytesToBigInt(s), e, n) !== m) {
        throw new SshError("SIGN_FAILED", "RSA signature failed its self-check; not sending it");
      }
      return s;
    },
  };
}
