/**
 * Memory that the caller overwrites in full before anyone reads it. `new Uint8Array(n)` zeroes
 * its n bytes first, and for the 32-256 KiB buffers of a transfer that zeroing is a measurable
 * share of the CPU (about a tenth of a download's in the profiles); node:buffer's
 * allocUnsafeSlow (Node, Deno and Bun all have it) hands out a fresh ArrayBuffer of its own
 * without zeroing. Only for buffers whose every byte is written before it is read or sent:
 * anything else would leak old heap contents.
 */
import { Buffer } from "node:buffer";

export function uninitialized(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}
