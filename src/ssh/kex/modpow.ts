/**
 * Modular exponentiation on BigInt for finite-field Diffie-Hellman (RFC 4253 §8, RFC 4419).
 * JavaScript has no built-in modPow and noble does not export one for arbitrary moduli, so this
 * is a fixed-window square-and-multiply: for a 512-bit exponent it does 512 squarings and about
 * 100 multiplications, each followed by one reduction, which V8's sub-quadratic BigInt
 * multiplication and division keep fast even for the 8192-bit group.
 *
 * Not constant time: BigInt arithmetic never is. DH exponents here are ephemeral and used for a
 * single exchange, which leaves an attacker one timing sample per secret.
 */
import { SshError } from "../../errors.js";

/** Window width by exponent size: wider windows pay off only once the table cost is amortised. */
function windowBits(expBits: number): number {
  if (expBits > 768) return 6;
  if (expBits > 240) return 5;
  if (expBits > 80) return 4;
  return 1;
}

/** base^exp mod m, for m > 0 and exp >= 0. */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m <= 0n) throw new SshError("INVALID_ARGUMENT", "modPow: modulus must be positive");
  if (exp < 0n) throw new SshError("INVALID_ARGUMENT", "modPow: exponent must not be negative");
  if (m === 1n) return 0n;
  let b = base % m;
  if (b < 0n) b += m;
  if (exp === 0n) return 1n;

  const bits = exp.toString(2);
  const w = windowBits(bits.length);
  // table[i] = b^i for i < 2^w.
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 1 << w; i++) table.push((table[i - 1]! * b) % m);

  // Left-pad so the exponent splits into whole windows, then for each window square w times
  // and multiply by the table entry for the window's value.
  const padded = bits.padStart(Math.ceil(bits.length / w) * w, "0");
  let result = 1n;
  for (let i = 0; i < padded.length; i += w) {
    if (result !== 1n) for (let s = 0; s < w; s++) result = (result * result) % m;
    const digit = parseInt(padded.slice(i, i + w), 2);
    if (digit !== 0) result = (result * table[digit]!) % m;
  }
  return result;
}

/** The number of significant bits of a non-negative bigint (0 for 0n). */
export function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}
