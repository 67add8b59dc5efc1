/**
 * Short-lived small buffers (SFTP request packets: a few dozen to a few hundred bytes, copied
 * into an SSH packet within the turn) carved out of shared 64 KiB slabs, as Node's Buffer pool
 * does, instead of one ArrayBuffer each. An ArrayBuffer over 64 bytes is memory outside V8's
 * heap, allocated and tracked one by one: in a CPU profile of 2000 atomic writeFile calls
 * against an in-process peer, the SshWriter constructor that allocated them was 11% of the
 * busy time, and the garbage collector 13%.
 *
 * A piece is never handed out twice (no reuse, so no piece ever shows another's bytes, and a
 * piece kept by mistake only keeps its slab alive); a slab goes to the GC once its last piece
 * has. Larger requests get a buffer of their own.
 */
const SLAB = 64 * 1024;
const LARGEST = 4096;

let slab = new Uint8Array(0);
let used = 0;

/** A zero-filled buffer of `n` bytes, part of a shared slab when `n` is small. */
export function smallBuffer(n: number): Uint8Array {
  if (n > LARGEST) return new Uint8Array(n);
  if (used + n > slab.length) {
    slab = new Uint8Array(SLAB);
    used = 0;
  }
  const piece = slab.subarray(used, used + n);
  used += (n + 7) & ~7; // the next piece 8-byte aligned
  return piece;
}
