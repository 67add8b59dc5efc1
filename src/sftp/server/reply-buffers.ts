/**
 * The buffers one SFTP server session reads files into: each READ's DATA reply is built in
 * place (handle-ops.ts), and once the channel has taken the reply (copied it into SSH packets:
 * Channel.write) its buffer serves a later READ, so a download cycles through a few buffers.
 * A new 255 KiB buffer per READ cost more than the file read itself: fresh memory is faulted in
 * page by page by the thread that reads into it, and every such buffer counts towards the
 * external memory that makes V8 run full garbage collections. Reading 256 MiB in 255 KiB pieces
 * on the bench machine: ~0.45 CPU-s into fresh buffers, ~0.12 into reused ones.
 *
 * Sizes are rounded up to whole pages (at most to the largest DATA reply), so READs of slightly
 * different lengths share buffers. The pool keeps at most `maxBytes`, and the session empties it
 * whenever it has no request left: an idle session holds none.
 */
import { BufferPool } from "../../util/buffer-pool.js";
import { DATA_HEADER_LENGTH } from "../packets/response.js";

/** Smaller buffers are not pooled (they come from V8's heap and cost little). */
const MIN_POOLED = 16 * 1024;
const PAGE = 4096;

export class ReplyBuffers {
  private readonly pool: BufferPool;
  /** The largest DATA reply: header and the READ cap. */
  private readonly largest: number;

  /** `maxRead`: the session's READ cap; `maxBytes`: the most the pool keeps. */
  constructor(maxRead: number, maxBytes: number) {
    this.largest = DATA_HEADER_LENGTH + maxRead;
    this.pool = new BufferPool(MIN_POOLED, maxBytes);
  }

  /**
   * `n` bytes of a pooled buffer, or of a new one. Not zeroed, and it may hold an earlier reply's
   * bytes: only what the caller writes into it may be sent.
   */
  take(n: number): Uint8Array {
    if (n < MIN_POOLED) return new Uint8Array(n);
    const size = Math.max(n, Math.min(Math.ceil(n / PAGE) * PAGE, this.largest));
    return this.pool.take(size).subarray(0, n);
  }

  /** Room for a DATA packet of up to `capacity` bytes of data (see dataPacketBuffer). */
  data(capacity: number): Uint8Array {
    return this.take(DATA_HEADER_LENGTH + capacity);
  }

  /**
   * Nothing refers to `view`'s bytes any more (the channel has taken the reply): its buffer may
   * serve a later READ. Views of anything not taken here are ignored.
   */
  give(view: Uint8Array): void {
    this.pool.give(view);
  }

  /** Bytes kept for later READs now. */
  get pooled(): number {
    return this.pool.pooled;
  }

  /** Drops the kept buffers (the session has nothing to do). */
  clear(): void {
    this.pool.clear();
  }
}
