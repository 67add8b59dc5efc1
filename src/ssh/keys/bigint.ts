/** Unsigned big-endian bytes ↔ bigint, for RSA and ECDSA fields (RFC 8017 §4 OS2IP / I2OSP). */
import { ProtocolError } from "../../errors.js";

/** OS2IP: unsigned big-endian bytes to a bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex ? BigInt("0x" + hex) : 0n;
}

/** I2OSP: a non-negative bigint as exactly `length` big-endian bytes; throws if it does not fit. */
export function bigIntToBytes(v: bigint, length: number): Uint8Array {
  if (v < 0n) throw new ProtocolError("negative integer where an unsigned one is required");
  const hex = v.toString(16);
  if (hex.length > length * 2) throw new ProtocolError(`integer too large for ${length} bytes`);
  const padded = hex.padStart(length * 2, "0");
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(padded.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Minimal unsigned big-endian bytes (empty for zero). */
export function bigIntToMinimalBytes(v: bigint): Uint8Array {
  return bigIntToBytes(v, byteLength(v));
}

export function bitLength(v: bigint): number {
  return v <= 0n ? 0 : v.toString(2).length;
}

export function byteLength(v: bigint): number {
  return Math.ceil(bitLength(v) / 8);
}

/** Constant-time equality of two byte arrays (length is not secret). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
