/**
 * Key derivation after key exchange (RFC 4253 §7.2). Each of the six keys is
 *
 *   K1 = HASH(K || H || X || session_id)      X is "A".."F"
 *   K2 = HASH(K || H || K1)
 *   K3 = HASH(K || H || K1 || K2) ...
 *   key = first `length` bytes of K1 || K2 || K3 || ...
 *
 * with HASH the key-exchange method's hash and K exactly as it entered the exchange hash (an
 * mpint for DH/ECDH, a string for the hybrid post-quantum methods), length prefix included.
 */
import { concat } from "../wire/writer.js";

/** Which key: IVs (A client→server, B server→client), ciphers (C, D), MACs (E, F). */
export type KeyLetter = "A" | "B" | "C" | "D" | "E" | "F";

export function deriveKey(
  hash: (data: Uint8Array) => Uint8Array,
  K: Uint8Array,
  H: Uint8Array,
  letter: KeyLetter,
  sessionId: Uint8Array,
  length: number,
): Uint8Array {
  let out = hash(concat(K, H, Uint8Array.of(letter.charCodeAt(0)), sessionId));
  while (out.length < length) out = concat(out, hash(concat(K, H, out)));
  return out.slice(0, length);
}
