/**
 * Incoming bytes arrive in chunks of any size; the packet layer needs contiguous ranges. This
 * queue hands out views into a chunk when a range lies inside one (the common case for small
 * packets, and for every packet when the socket reads into one buffer) and copies only when a
 * range spans chunks in different memory.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // read offset into chunks[0]
  private total = 0;
  /** Chunks consumed to their end since `drained` was last called (when asked to keep them). */
  private readonly dropped: Uint8Array[] | undefined;

  /** `trackDrained`: keep the chunks taken to their end for `drained` (see PacketDecoder.release). */
  constructor(trackDrained = false) {
    if (trackDrained) this.dropped = [];
  }

  /**
   * The chunks (as pushed, or joined by `push`) whose every byte has been taken since the last
   * call: the views handed out by `take` are then the only references the queue gave out.
   */
  drained(): Uint8Array[] {
    return this.dropped ? this.dropped.splice(0) : [];
  }

  get length(): number {
    return this.total;
  }

  /**
   * Queues a chunk. One that continues the last chunk in the same memory (consecutive socket
   * reads into one buffer) extends it instead, so a range across both is still a view.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const last = this.chunks.length - 1;
    const prev = this.chunks[last];
    if (prev && prev.buffer === chunk.buffer && prev.byteOffset + prev.length === chunk.byteOffset) {
      this.chunks[last] = new Uint8Array(prev.buffer, prev.byteOffset, prev.length + chunk.length);
    } else {
      this.chunks.push(chunk);
    }
    this.total += chunk.length;
  }

  /** The first `n` bytes without consuming them (n <= length). */
  peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    return this.copyOut(n, false);
  }

  /**
   * Removes and returns the first `n` bytes (n <= length): a view when they lie in one chunk,
   * else a copy into `alloc(n)` (a new buffer by default; a caller may lend pooled memory).
   */
  take(n: number, alloc?: (n: number) => Uint8Array): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      this.total -= n;
      if (this.head === first.length) {
        this.dropped?.push(first);
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    return this.copyOut(n, true, alloc);
  }

  /** Everything queued, consumed. */
  takeAll(): Uint8Array {
    return this.total === 0 ? new Uint8Array(0) : this.take(this.total);
  }

  private copyOut(n: number, consume: boolean, alloc?: (n: number) => Uint8Array): Uint8Array {
    const out = alloc ? alloc(n) : new Uint8Array(n);
    let filled = 0;
    let i = 0;
    let off = this.head;
    while (filled < n) {
      const c = this.chunks[i]!;
      const k = Math.min(n - filled, c.length - off);
      out.set(c.subarray(off, off + k), filled);
      filled += k;
      off += k;
      if (off === c.length) {
        i++;
        off = 0;
      }
    }
    if (consume) {
      const gone = this.chunks.splice(0, i);
      if (this.dropped) for (const c of gone) this.dropped.push(c);
      this.head = off;
      this.total -= n;
    }
    return out;
  }
}
