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
 *
 * Every intermediate buffer holding K or key bytes is zeroed before returning; the result
 * belongs to the caller, which wipes it once the cipher has taken its copy (key-exchange.ts).
 * (The hash function's own internal state is noble's to clean.)
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
  const first = concat(K, H, Uint8Array.of(letter.charCodeAt(0)), sessionId);
  let out = hash(first);
  first.fill(0);
  while (out.length < length) {
    const input = concat(K, H, out);
    const next = hash(input);
    input.fill(0);
    const longer = concat(out, next);
    out.fill(0);
    next.fill(0);
    out = longer;
  }
  const key = out.slice(0, length);
  out.fill(0);
  return key;
}
