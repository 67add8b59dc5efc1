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
import { checkPeer, initReplyMethod, stringSecret, type RandomFn } from "./exchange-hash.js";

export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
const CLIENT_VALUE_BYTES = MLKEM768_PUBLIC_KEY_BYTES + X25519_KEY_BYTES;
const SERVER_VALUE_BYTES = MLKEM768_CIPHERTEXT_BYTES + X25519_KEY_BYTES;

interface ClientSecret {
  kem: Uint8Array;
  x25519: Uint8Array;
}

/** The hybrid K: both secrets hashed together, then string-encoded as OpenSSH does. */
function combine(kemSecret: Uint8Array, ecdhSecret: Uint8Array): Uint8Array {
  return stringSecret(sha256(concatBytes(kemSecret, ecdhSecret)));
}

export function mlkem768x25519Method(random: RandomFn = randomBytes): KexMethod {
  return initReplyMethod<ClientSecret, Uint8Array>({
    name: "mlkem768x25519-sha256",
    hash: (d) => sha256(d),
    writePublic: (w, q) => void w.string(q),
    // Lengths differ by direction; each side checks the exact length it expects below.
    readPublic: (r) => r.string().slice(),
    clientKey: () => {
      const kem = ml_kem768.keygen(random(64));
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
      const { cipherText, sharedSecret: kemSecret } = checkPeer("ML-KEM-768 encapsulation key", () =>
        ml_kem768.encapsulate(kemKey, random(32)),
      );
      const ecdh = x25519KeyPair(random);
      const ecdhSecret = x25519Shared(ecdh.secretKey, qc.subarray(MLKEM768_PUBLIC_KEY_BYTES));
      return { value: concatBytes(cipherText, ecdh.publicKey), sharedSecret: combine(kemSecret, ecdhSecret) };
    },
    clientFinish: (secret, qs) => {
      if (qs.length !== SERVER_VALUE_BYTES) {
        throw new ProtocolError(`mlkem768x25519 server value must be ${SERVER_VALUE_BYTES} bytes, not ${qs.length}`);
      }
      // Decapsulation never fails: a forged ciphertext yields a pseudorandom secret (FIPS 203
      // implicit rejection), so a mismatch surfaces as a host key signature that fails over H.
      const kemSecret = checkPeer("ML-KEM-768 ciphertext", () =>
        ml_kem768.decapsulate(qs.subarray(0, MLKEM768_CIPHERTEXT_BYTES), secret.kem),
      );
      const ecdhSecret = x25519Shared(secret.x25519, qs.subarray(MLKEM768_CIPHERTEXT_BYTES));
      return combine(kemSecret, ecdhSecret);
    },
  });
}

export const MLKEM768X25519_SHA256 = mlkem768x25519Method();
