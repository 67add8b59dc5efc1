/**
 * Buffers lent out and given back once nothing refers to them any more, for later requests of
 * the same size: a stream of equal-sized packets then cycles through a few buffers instead of
 * each being a fresh allocation for the GC to reclaim. Only buffers this pool lent come back,
 * each once (a view of anything else, or a second hand-back, is ignored); sizes under `minSize`
 * are never pooled, and at most `maxBytes` wait in the pool.
 *
 * What `take` returns holds garbage, pooled or new (new ones are not zeroed: see
 * platform/memory.ts): callers write every byte they later read or send.
 */
import { uninitialized } from "../platform/memory.js";

export class BufferPool {
  private readonly bySize = new Map<number, ArrayBuffer[]>();
  private readonly lent = new WeakSet<ArrayBuffer>();
  private bytes = 0;

  constructor(
    private readonly minSize: number,
    private readonly maxBytes: number,
  ) {}

  /** A buffer of exactly `size` bytes: a pooled one if there is one (old contents and all), else a new unzeroed one. */
  take(size: number): Uint8Array {
    if (size < this.minSize) return new Uint8Array(size);
    const buffer = this.bySize.get(size)?.pop();
    if (buffer) this.bytes -= size;
    const out = buffer ? new Uint8Array(buffer) : uninitialized(size);
    this.lent.add(out.buffer as ArrayBuffer);
    return out;
  }

  /**
   * Gives back the buffer behind `view` (any view into a buffer from `take` will do). It is kept
   * only while the pool stays within `limit` bytes (at most the pool's own maximum), else left
   * to the GC.
   */
  give(view: Uint8Array, limit = this.maxBytes): void {
    const buffer = view.buffer as ArrayBuffer;
    if (!this.lent.delete(buffer) || this.bytes + buffer.byteLength > Math.min(limit, this.maxBytes)) return;
    let list = this.bySize.get(buffer.byteLength);
    if (!list) this.bySize.set(buffer.byteLength, (list = []));
    list.push(buffer);
    this.bytes += buffer.byteLength;
  }

  /** Bytes waiting in the pool now. */
  get pooled(): number {
    return this.bytes;
  }

  /** Drops pooled buffers (to the GC) until at most `maxBytes` wait; lent ones may still come back. */
  trim(maxBytes: number): void {
    for (const [size, list] of this.bySize) {
      while (this.bytes > maxBytes && list.length > 0) {
        list.pop();
        this.bytes -= size;
      }
    }
  }

  /** Drops every pooled buffer (to the GC); buffers lent out may still come back later. */
  clear(): void {
    this.bySize.clear();
    this.bytes = 0;
  }
}
