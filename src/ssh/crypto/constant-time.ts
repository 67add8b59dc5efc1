/**
 * Constant-time comparison for MACs and AEAD tags. A comparison that stops at the first
 * differing byte leaks, through timing, how many leading bytes of a forged tag were right;
 * RFC 4253 §6.4 MACs and PROTOCOL.chacha20poly1305 ("compared in constant time") need this.
 */

/**
 * True when `a` and `b` hold the same bytes. Runs in time that depends only on the lengths
 * (which are public: tag sizes are fixed by the negotiated algorithm).
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
