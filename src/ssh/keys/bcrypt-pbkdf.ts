/**
 * bcrypt_pbkdf, the passphrase KDF of OpenSSH's openssh-key-v1 files (kdfname "bcrypt",
 * PROTOCOL.key §2), after OpenBSD's lib/libutil/bcrypt_pbkdf.c (Ted Unangst, 2013):
 *
 *   - PBKDF2's structure with SHA-512 pre-hashing and bcrypt_hash as the PRF: for block
 *     count = 1, 2, …: T = H(SHA512(pass), SHA512(salt || BE32(count))), then rounds-1 times
 *     T' = H(SHA512(pass), SHA512(T')) XORed into the block;
 *   - bcrypt_hash(P, S): EksBlowfish setup (expandstate(S, P), then 64 × expand0state(S) and
 *     expand0state(P)), then 64 ECB encryptions of "OxychromaticBlowfishSwatDynamite", output
 *     as eight little-endian words (32 bytes);
 *   - the output is *interleaved*, not concatenated: byte i of block `count` goes to
 *     key[i * stride + count - 1] with stride = ceil(keylen / 32), so each block spreads over
 *     the whole key and no prefix can be computed with fewer than all blocks.
 *
 * Cost: 2 × 64 + 1 Blowfish key schedules (521 block encryptions each) per bcrypt_hash, and
 * rounds × ceil(keylen / 32) of those; about 4 ms per bcrypt_hash on a 2020s x86 core.
 */
import { sha512 } from "@noble/hashes/sha2.js";
import { SshError } from "../../errors.js";
import {
  blowfishEncipher,
  blowfishExpand0State,
  blowfishExpandState,
  blowfishInitState,
  blowfishResetState,
  wordStream,
  type BlowfishState,
} from "./blowfish.js";

const HASH_WORDS = 8;
/** 32 bytes: the bcrypt_hash output size. */
export const BCRYPT_HASH_SIZE = HASH_WORDS * 4;
const MAGIC = new TextEncoder().encode("OxychromaticBlowfishSwatDynamite");

function magicWords(): Int32Array {
  const w = new Int32Array(HASH_WORDS);
  for (let i = 0; i < HASH_WORDS; i++) {
    w[i] = (MAGIC[4 * i]! << 24) | (MAGIC[4 * i + 1]! << 16) | (MAGIC[4 * i + 2]! << 8) | MAGIC[4 * i + 3]!;
  }
  return w;
}

function hashInto(st: BlowfishState, sha2pass: Int32Array, sha2salt: Int32Array, out: Uint8Array): void {
  blowfishResetState(st);
  blowfishExpandState(st, sha2salt, sha2pass);
  for (let i = 0; i < 64; i++) {
    blowfishExpand0State(st, sha2salt);
    blowfishExpand0State(st, sha2pass);
  }
  const cdata = magicWords();
  for (let i = 0; i < 64; i++) {
    for (let b = 0; b < HASH_WORDS; b += 2) blowfishEncipher(st, cdata, b);
  }
  for (let i = 0; i < HASH_WORDS; i++) {
    const v = cdata[i]!;
    out[4 * i] = v & 0xff;
    out[4 * i + 1] = (v >>> 8) & 0xff;
    out[4 * i + 2] = (v >>> 16) & 0xff;
    out[4 * i + 3] = v >>> 24;
  }
  cdata.fill(0);
}

/** The words of SHA-512(`bytes`); the digest bytes are wiped once converted. */
function sha512Words(bytes: Uint8Array): Int32Array {
  const digest = sha512(bytes);
  const words = wordStream(digest);
  digest.fill(0);
  return words;
}

/** bcrypt_hash over two 64-byte SHA-512 digests (exported for its published test vector). */
export function bcryptHash(sha2pass: Uint8Array, sha2salt: Uint8Array): Uint8Array {
  if (sha2pass.length !== 64 || sha2salt.length !== 64) throw new SshError("KDF_PARAMS", "bcrypt_hash takes two 64-byte digests");
  const out = new Uint8Array(BCRYPT_HASH_SIZE);
  hashInto(blowfishInitState(), wordStream(sha2pass), wordStream(sha2salt), out);
  return out;
}

/**
 * Derives `keyLength` bytes; the caller owns (and should wipe) the result, while every
 * intermediate derived from the password — SHA-512 of it, the Blowfish state, the bcrypt_hash
 * blocks — is zeroed before returning. The argument checks are OpenSSH's ("nothing crazy"): non-empty
 * password and salt, 1 ≤ keyLength ≤ 1024, salt ≤ 1 MiB, rounds ≥ 1. Callers bound `rounds`
 * themselves (the cost is linear in it); see MAX_BCRYPT_ROUNDS in openssh-key.ts.
 */
export function bcryptPbkdf(password: Uint8Array, salt: Uint8Array, rounds: number, keyLength: number): Uint8Array {
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new SshError("KDF_PARAMS", `bcrypt_pbkdf rounds must be ≥ 1, got ${rounds}`);
  if (password.length === 0) throw new SshError("KDF_PARAMS", "bcrypt_pbkdf needs a non-empty password");
  if (salt.length === 0 || salt.length > 1 << 20) throw new SshError("KDF_PARAMS", `bcrypt_pbkdf salt of ${salt.length} bytes`);
  if (!Number.isSafeInteger(keyLength) || keyLength < 1 || keyLength > BCRYPT_HASH_SIZE * BCRYPT_HASH_SIZE) {
    throw new SshError("KDF_PARAMS", `bcrypt_pbkdf cannot make a ${keyLength}-byte key`);
  }
  const stride = Math.ceil(keyLength / BCRYPT_HASH_SIZE);
  const amt = Math.ceil(keyLength / stride);
  const key = new Uint8Array(keyLength);
  const sha2pass = sha512Words(password);
  const st = blowfishInitState();
  const countSalt = new Uint8Array(salt.length + 4);
  countSalt.set(salt);
  const out = new Uint8Array(BCRYPT_HASH_SIZE);
  const tmp = new Uint8Array(BCRYPT_HASH_SIZE);
  for (let count = 1, left = keyLength; left > 0; count++) {
    new DataView(countSalt.buffer).setUint32(salt.length, count);
    hashInto(st, sha2pass, wordStream(sha512(countSalt)), tmp);
    out.set(tmp);
    for (let r = 1; r < rounds; r++) {
      const sha2tmp = sha512Words(tmp);
      hashInto(st, sha2pass, sha2tmp, tmp);
      sha2tmp.fill(0);
      for (let j = 0; j < out.length; j++) out[j]! ^= tmp[j]!;
    }
    // The pbkdf2 deviation: spread this block across the key (see the module comment).
    let i = 0;
    for (; i < Math.min(amt, left); i++) {
      const dest = i * stride + (count - 1);
      if (dest >= keyLength) break;
      key[dest] = out[i]!;
    }
    left -= i;
  }
  // Everything derived from the password except the result (the caller wipes that).
  sha2pass.fill(0);
  st.P.fill(0);
  st.S.fill(0);
  out.fill(0);
  tmp.fill(0);
  return key;
}
