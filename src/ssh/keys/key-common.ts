/**
 * What every private key format module shares: the PrivateKey shape, the per-type KeySigner
 * seam, passphrase handling, and the limits on attacker-chosen KDF costs.
 *
 * Error codes (SshError.code) used by the key file parsers:
 *   KEY_FORMAT            not the expected format, malformed, corrupt, or MAC mismatch
 *   UNSUPPORTED_KEY_TYPE  a key type this library cannot sign with (DSA, Ed448, RSA-PSS, …)
 *   UNSUPPORTED_CIPHER    an encryption or KDF this library does not implement (3DES, PBES1, …)
 *   PASSPHRASE_REQUIRED   the key is encrypted and no (or an empty) passphrase was given
 *   BAD_PASSPHRASE        decryption failed: wrong passphrase (or a corrupted ciphertext)
 *   KDF_LIMIT             the file asks for more KDF work than ParsePrivateKeyOptions allow
 *   UNSUPPORTED_ALGORITHM sign() with a signature algorithm the key cannot use
 *   KDF_PARAMS            bcryptPbkdf() called directly with arguments OpenSSH would refuse
 *
 * Secrets: messages never quote bytes of a private key section or a passphrase. Buffers the
 * parsers make — passphrase bytes, KDF outputs, decrypted and base64-decoded key sections — are
 * zeroed (`wipe`) once the signer holds its own copy; the caller's input is left as given.
 * Strings and BigInts (RSA components, mpints) cannot be wiped in JavaScript.
 */
import { SshError } from "../../errors.js";
import type { CryptoBackend } from "../crypto/cipher.js";
import { parsePublicKey, signatureBlob, type PublicKey } from "./public-key.js";

export interface PrivateKey {
  /** Key type, e.g. "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa". */
  readonly type: string;
  readonly publicKey: PublicKey;
  /** The comment stored with the key (often user@host); empty for formats without one. */
  readonly comment: string;
  /**
   * Signs `data` and returns the full RFC 4253 §6.6 signature blob (string algorithm, string
   * signature). `algorithm` must suit the key: for ssh-rsa keys rsa-sha2-512, rsa-sha2-256 or
   * (legacy, SHA-1) ssh-rsa; otherwise the key type itself.
   */
  sign(algorithm: string, data: Uint8Array, backend?: CryptoBackend): Promise<Uint8Array>;
}

/** What one key type module provides for its private half. */
export interface KeySigner {
  readonly algorithms: readonly string[];
  /** The matching public key blob. */
  readonly publicBlob: Uint8Array;
  /** Returns the signature string that goes inside the blob. */
  sign(algorithm: string, data: Uint8Array, backend: CryptoBackend): Promise<Uint8Array>;
}

/** A passphrase as text (encoded as UTF-8, as OpenSSH, OpenSSL and PuTTY do) or raw bytes. */
export type Passphrase = string | Uint8Array;

/**
 * Upper bounds on the work a key file may demand before its passphrase can be checked. Key
 * files are usually trusted, but a hostile one could otherwise ask for 2^32 bcrypt rounds or
 * gigabytes of Argon2 memory. The defaults allow about 20–40 s of pure-JS work on a current
 * x86 core; lower them when parsing keys from untrusted sources.
 */
export interface ParsePrivateKeyOptions {
  /** openssh-key-v1 bcrypt_pbkdf rounds. Default 4096 (OpenSSH writes 16; `-a 100` is common). */
  maxBcryptRounds?: number;
  /** PKCS#8 PBES2 PBKDF2 iterations. Default 10,000,000 (OpenSSL writes 2048). */
  maxPbkdf2Iterations?: number;
  /** PKCS#8 scrypt: N·r·128 bytes of memory. Default 256 MiB. */
  maxScryptMemoryBytes?: number;
  /** PuTTY v3 Argon2 memory in KiB. Default 262,144 (256 MiB; PuTTY writes 8192). */
  maxArgon2MemoryKiB?: number;
  /** PuTTY v3 Argon2 memory × passes, in KiB. Default 2^22 (e.g. 8 MiB × 512 passes). */
  maxArgon2Work?: number;
}

export const DEFAULT_KDF_LIMITS: Required<ParsePrivateKeyOptions> = {
  maxBcryptRounds: 4096,
  maxPbkdf2Iterations: 10_000_000,
  maxScryptMemoryBytes: 256 * 1024 * 1024,
  maxArgon2MemoryKiB: 256 * 1024,
  maxArgon2Work: 1 << 22,
};

export function kdfLimit(options: ParsePrivateKeyOptions | undefined, name: keyof ParsePrivateKeyOptions): number {
  return options?.[name] ?? DEFAULT_KDF_LIMITS[name];
}

export function fail(message: string, code = "KEY_FORMAT"): never {
  throw new SshError(code, message);
}

/** Throws KDF_LIMIT when `value` exceeds the caller's bound. */
export function checkKdfLimit(options: ParsePrivateKeyOptions | undefined, name: keyof ParsePrivateKeyOptions, value: number, what: string): void {
  const max = kdfLimit(options, name);
  if (value > max) {
    fail(`${what} is ${value}, above the limit of ${max}; raise ParsePrivateKeyOptions.${name} if this key is trusted`, "KDF_LIMIT");
  }
}

/**
 * The passphrase bytes, or PASSPHRASE_REQUIRED when there is none (an empty one counts as none).
 * Always a fresh copy the caller owns and zeroes after use (see `wipe`); the caller's own
 * Uint8Array is never modified, and a string passphrase cannot be wiped at all.
 */
export function requirePassphrase(passphrase: Passphrase | undefined, what: string): Uint8Array {
  const bytes = typeof passphrase === "string" ? new TextEncoder().encode(passphrase) : passphrase?.slice();
  if (!bytes || bytes.length === 0) fail(`the key is encrypted (${what}): a passphrase is required`, "PASSPHRASE_REQUIRED");
  return bytes;
}

/** Zeroes buffers that held secrets (passphrases, derived keys, decrypted key sections). */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** The PrivateKey for a signer; parsing the public blob again re-validates it. */
export function wrapSigner(type: string, comment: string, signer: KeySigner): PrivateKey {
  const publicKey = parsePublicKey(signer.publicBlob);
  return {
    type,
    publicKey,
    comment,
    async sign(algorithm, data, backend = "auto") {
      if (!signer.algorithms.includes(algorithm)) {
        fail(`a ${type} key cannot sign with "${algorithm}" (use ${signer.algorithms.join(", ")})`, "UNSUPPORTED_ALGORITHM");
      }
      return signatureBlob(algorithm, await signer.sign(algorithm, data, backend));
    },
  };
}

/** Runs `f`, turning any exception into BAD_PASSPHRASE (for checks on freshly decrypted bytes). */
export function orBadPassphrase<T>(f: () => T, message = "wrong passphrase (decryption produced garbage)"): T {
  try {
    return f();
  } catch (err) {
    throw new SshError("BAD_PASSPHRASE", message, { cause: err instanceof SshError ? err : undefined });
  }
}
