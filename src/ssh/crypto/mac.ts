/**
 * HMAC packet MACs (RFC 4253 §6.4, RFC 6668 for SHA-2) and OpenSSH's encrypt-then-MAC forms
 * (PROTOCOL §1.5). The MAC algorithm only computes MAC(key, uint32 seq || data); which bytes
 * `data` covers (plaintext packet, or packet_length || ciphertext for -etm) is decided by
 * the cipher that uses it (aes-ctr.ts).
 */
import type { MacAlgorithm } from "./cipher.js";
import type { HashName } from "./primitives.js";
import { ProtocolError } from "../../errors.js";

const DIGEST_LENGTH: Record<HashName, number> = { sha1: 20, sha256: 32, sha512: 64 };

function hmacAlgorithm(name: string, hash: HashName, etm: boolean): MacAlgorithm {
  // RFC 4253 §7.2 / RFC 6668 §2: key length = digest length = MAC length for these MACs.
  const length = DIGEST_LENGTH[hash];
  return {
    name,
    keyLength: length,
    length,
    etm,
    create(key, suite) {
      if (key.length < length) {
        throw new ProtocolError(`${name} needs a ${length}-byte key, got ${key.length}`, "KEY_LENGTH");
      }
      // Key derivation may hand over more bytes than needed; like OpenSSH's mac_init, only
      // the first keyLength bytes are the key (a longer HMAC key would give another MAC).
      const keyed = suite.hmac(hash, key.subarray(0, length));
      const seqBytes = new Uint8Array(4);
      return {
        implementation: `hmac: ${keyed.implementation}`,
        compute(seq, data) {
          seqBytes[0] = seq >>> 24;
          seqBytes[1] = seq >>> 16;
          seqBytes[2] = seq >>> 8;
          seqBytes[3] = seq;
          return keyed.mac(seqBytes, data);
        },
      };
    },
  };
}

export const HMAC_SHA2_256 = hmacAlgorithm("hmac-sha2-256", "sha256", false);
export const HMAC_SHA2_512 = hmacAlgorithm("hmac-sha2-512", "sha512", false);
export const HMAC_SHA2_256_ETM = hmacAlgorithm("hmac-sha2-256-etm@openssh.com", "sha256", true);
export const HMAC_SHA2_512_ETM = hmacAlgorithm("hmac-sha2-512-etm@openssh.com", "sha512", true);
/** Legacy (SHA-1): interoperability with old servers only; never offered unless asked for. */
export const HMAC_SHA1 = hmacAlgorithm("hmac-sha1", "sha1", false);
/** Legacy (SHA-1): interoperability with old servers only; never offered unless asked for. */
export const HMAC_SHA1_ETM = hmacAlgorithm("hmac-sha1-etm@openssh.com", "sha1", true);

/** MAC names that work but are not offered by default (SHA-1 based). */
export const LEGACY_MACS: ReadonlySet<string> = new Set([HMAC_SHA1.name, HMAC_SHA1_ETM.name]);
