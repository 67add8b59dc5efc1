/**
 * Byte mutations for property tests. Edits are XORs at distinct positions, so a mutated copy
 * always differs from its original: two equal edits at one position would cancel, and a test that
 * expects "never accepts garbage" would then fail on the untouched original (CI seed 31178506).
 */
import fc from "fast-check";

/** A copy of `bytes` with each `[at, x]` XORed in at `at % length`, skipping repeated positions. */
export function xorAtDistinct(bytes: Uint8Array, edits: readonly (readonly [number, number])[]): Uint8Array {
  const out = bytes.slice();
  const done = new Set<number>();
  for (const [at, x] of edits) {
    const i = at % out.length;
    if (done.has(i)) continue;
    done.add(i);
    out[i]! ^= x;
  }
  return out;
}

/** 1 to `maxEdits` edits of nonzero XOR masks, for `xorAtDistinct`. */
export const xorEdits = (maxEdits: number) =>
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: maxEdits });
