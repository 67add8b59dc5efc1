/**
 * mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex, OpenSSH kexmlkem768x25519.c): a
 * hybrid of ML-KEM-768 (FIPS 203) and X25519, so the session stays secret if either holds.
 *
 *   Q_C = ML-KEM-768 encapsulation key (1184 bytes) || client X25519 public key (32 bytes)
 *   Q_S = ML-KEM-768 ciphertext (1088 bytes)        || server X25519 public key (32 bytes)
 *   K   = SHA-256(ML-KEM shared secret || X25519 shared secret), encoded as a *string*
 *
 * Messages and H are those of ECDH (RFC 5656 §4, §7.1): Q_C, Q_S and K as strings.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, randomBytes } from "@noble/hashes/utils.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { ProtocolError } from "../../errors.js";
import type { KexMethod } from "./kex.js";
import { X25519_KEY_BYTES, x25519KeyPair, x25519Shared } from "./curve25519.js";
import { checkPeer, initReplyMethod, stringSecret, useOnce, type RandomFn } from "./exchange-hash.js";

export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
const CLIENT_VALUE_BYTES = MLKEM768_PUBLIC_KEY_BYTES + X25519_KEY_BYTES;
const SERVER_VALUE_BYTES = MLKEM768_CIPHERTEXT_BYTES + X25519_KEY_BYTES;

interface ClientSecret {
  kem: Uint8Array;
  x25519: Uint8Array;
}

/**
 * The hybrid K: both secrets hashed together, then string-encoded as OpenSSH does. Both inputs
 * and every intermediate are zeroed.
 */
function combine(kemSecret: Uint8Array, ecdhSecret: Uint8Array): Uint8Array {
  const both = concatBytes(kemSecret, ecdhSecret);
  kemSecret.fill(0);
  ecdhSecret.fill(0);
  const digest = sha256(both);
  both.fill(0);
  return stringSecret(digest); // zeroes `digest`
}

export function mlkem768x25519Method(random: RandomFn = randomBytes): KexMethod {
  return initReplyMethod<ClientSecret, Uint8Array>({
    name: "mlkem768x25519-sha256",
    hash: (d) => sha256(d),
    writePublic: (w, q) => void w.string(q),
    // Lengths differ by direction; each side checks the exact length it expects below.
    readPublic: (r) => r.string().slice(),
    clientKey: () => {
      const kem = useOnce(random(64), (seed) => ml_kem768.keygen(seed));
      const ecdh = x25519KeyPair(random);
      return {
        secret: { kem: kem.secretKey, x25519: ecdh.secretKey },
        value: concatBytes(kem.publicKey, ecdh.publicKey),
      };
    },
    serverRespond: (qc) => {
      if (qc.length !== CLIENT_VALUE_BYTES) {
        throw new ProtocolError(`mlkem768x25519 client value must be ${CLIENT_VALUE_BYTES} bytes, not ${qc.length}`);
      }
      // noble runs FIPS 203's encapsulation key check (coefficients below q) and throws if it fails.
      const kemKey = qc.subarray(0, MLKEM768_PUBLIC_KEY_BYTES);
      // The random message is the preimage of the KEM secret: wiped as soon as it is used.
      const msg = random(32);
      const { cipherText, sharedSecret: kemSecret } = checkPeer("ML-KEM-768 encapsulation key", () =>
        useOnce(msg, (m) => ml_kem768.encapsulate(kemKey, m)),
      );
      const ecdh = x25519KeyPair(random);
      let ecdhSecret: Uint8Array;
      try {
        ecdhSecret = x25519Shared(ecdh.secretKey, qc.subarray(MLKEM768_PUBLIC_KEY_BYTES));
      } catch (e) {
        kemSecret.fill(0);
        throw e;
      } finally {
        ecdh.secretKey.fill(0);
      }
      return { value: concatBytes(cipherText, ecdh.publicKey), sharedSecret: combine(kemSecret, ecdhSecret) };
    },
    clientFinish: (secret, qs) => {
      if (qs.length !== SERVER_VALUE_BYTES) {
        throw new ProtocolError(`mlkem768x25519 server value must be ${SERVER_VALUE_BYTES} bytes, not ${qs.length}`);
      }
      // Decapsulation never fails: a forged ciphertext yields a pseudorandom secret (FIPS 203
      // implicit rejection), so a mismatch surfaces as a host key signature that fails over H.
      try {
        const kemSecret = checkPeer("ML-KEM-768 ciphertext", () =>
          ml_kem768.decapsulate(qs.subarray(0, MLKEM768_CIPHERTEXT_BYTES), secret.kem),
        );
        let ecdhSecret: Uint8Array;
        try {
          ecdhSecret = x25519Shared(secret.x25519, qs.subarray(MLKEM768_CIPHERTEXT_BYTES));
        } catch (e) {
          kemSecret.fill(0);
          throw e;
        }
        return combine(kemSecret, ecdhSecret);
      } finally {
        secret.kem.fill(0);
        secret.x25519.fill(0);
      }
    },
  });
}

export const MLKEM768X25519_SHA256 = mlkem768x25519Method();
