/** Byte-array helpers for non-secret data (use crypto/constant-time.ts for MACs and tags). */

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// --- bytes in parts: consecutive views of one message, as SftpFramer.nextParts hands them out

/** How many bytes `parts` hold. */
export function partsLength(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** The first `n` bytes of `parts` (fewer if they hold fewer): a view when parts[0] has them, else a copy. */
export function leadingBytes(parts: readonly Uint8Array[], n: number): Uint8Array {
  if (parts.length === 0) return new Uint8Array(0);
  if (parts[0]!.length >= n) return parts[0]!.subarray(0, n);
  const out = new Uint8Array(Math.min(n, partsLength(parts)));
  let at = 0;
  for (const p of parts) {
    if (at === out.length) break;
    const k = Math.min(p.length, out.length - at);
    out.set(p.subarray(0, k), at);
    at += k;
  }
  return out;
}

/** `parts` without their first `n` bytes, as views (no empty ones). */
export function skipBytes(parts: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (n >= p.length) {
      n -= p.length;
      continue;
    }
    out.push(n > 0 ? p.subarray(n) : p);
    n = 0;
  }
  return out;
}
