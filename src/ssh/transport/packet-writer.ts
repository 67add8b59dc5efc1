/**
 * The outgoing half of the binary packet protocol (RFC 4253 §6) on a socket: frames and seals
 * each payload as it is sent, and writes every packet queued in one turn of the event loop with
 * one socket write (writev when the socket has it), in order, even when sealing is asynchronous.
 */
import type { ByteChannel } from "../socket/byte-channel.js";
import { concat } from "../wire/writer.js";
import { PacketEncoder } from "./framing.js";

/**
 * Runs `f` once the current turn of the event loop is over: after every socket read that is
 * ready now has been handled and every promise reaction has run (setImmediate's check phase on
 * Node, Deno and Bun). The replies in one read thus answer with one socket write, not one write
 * per reply, which a microtask flush gave: a reply's continuation runs a few microtask hops
 * after the next packet is dispatched. Elsewhere (a browser's WebSocket) a microtask is the
 * fallback.
 */
const afterThisTurn: (f: () => void) => void =
  typeof setImmediate === "function" ? (f) => void setImmediate(f) : queueMicrotask;

/** Packets per socket write while sealing is asynchronous: 8 × 32 KiB, 256 KiB per write. */
const ASYNC_SLICE = 8;

/**
 * Sealed bytes after which the packets queued so far go to the socket at once, mid-turn, when
 * no earlier write is still pending. A WINDOW_ADJUST of 1 MiB lets a channel seal 32 packets in
 * one turn; written only at its end, the peer had nothing to decrypt until the last was sealed.
 * Written in slices, the peer works on the first while the rest are sealed.
 */
const SPILL_BYTES = 256 * 1024;

export class PacketWriter {
  /** Sealer, sequence number and packet count of the outgoing direction (swapped at NEWKEYS). */
  readonly encoder = new PacketEncoder();
  private outbox: (Uint8Array | Promise<Uint8Array>)[] = [];
  /** Bytes of the sealed packets in `outbox`, or -1 once it holds a packet still being sealed. */
  private outboxBytes = 0;
  /** Batches handed to the socket whose write has not finished: a new one must wait its turn. */
  private writing = 0;
  private flushScheduled = false;
  private readonly beforeFlushCalls: (() => void)[] = [];
  private chain: Promise<void> = Promise.resolve();

  /** `onError` hears of a failed seal or socket write; the writer does nothing more after one. */
  constructor(
    private readonly socket: ByteChannel,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Frames and seals one payload (given as consecutive parts) and queues it for the next write. */
  write(...parts: Uint8Array[]): void {
    const packet = this.encoder.encode(...parts);
    this.outbox.push(packet);
    if (packet instanceof Promise) this.outboxBytes = -1;
    else if (this.outboxBytes >= 0) {
      this.outboxBytes += packet.length;
      if (this.outboxBytes >= SPILL_BYTES && this.writing === 0) this.send(this.takeOutbox());
    }
    this.schedule();
  }

  /**
   * Calls `f` once, at the start of the next flush, before the queued packets are taken: what
   * it writes goes out in the same socket write. Channels use it to send what was written to
   * them during this turn together.
   */
  beforeFlush(f: () => void): void {
    this.beforeFlushCalls.push(f);
    this.schedule();
  }

  private schedule(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      afterThisTurn(() => this.flush());
    }
  }

  /** Resolves when everything written so far has been handed to the socket. */
  drain(): Promise<void> {
    this.flush();
    return this.chain;
  }

  /** Starts writing what is queued now rather than at the end of this turn. */
  flush(): void {
    if (!this.flushScheduled) return;
    // Set while the calls run: what they write joins this batch instead of scheduling another.
    for (let i = 0; i < this.beforeFlushCalls.length; i++) this.beforeFlushCalls[i]!();
    this.beforeFlushCalls.length = 0;
    this.flushScheduled = false;
    if (this.outbox.length > 0) this.send(this.takeOutbox());
  }

  private takeOutbox(): (Uint8Array | Promise<Uint8Array>)[] {
    const batch = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    return batch;
  }

  /**
   * Writes `batch` after every batch before it: at once when none is pending and all of it is
   * sealed (the socket takes it synchronously, mid-turn), else in the chain's turn.
   */
  private send(batch: (Uint8Array | Promise<Uint8Array>)[]): void {
    const sealed = !batch.some((p) => p instanceof Promise);
    const write = async (): Promise<void> => {
      if (sealed) return this.writeParts(batch as Uint8Array[]);
      // Asynchronous sealing (platform AES): write in slices as they are sealed rather than
      // after the whole batch, so the first bytes reach the peer while the rest is encrypted.
      for (let i = 0; i < batch.length; i += ASYNC_SLICE) {
        await this.writeParts(await Promise.all(batch.slice(i, i + ASYNC_SLICE)));
      }
    };
    this.writing++;
    const done = () => void this.writing--;
    const written = this.writing === 1 && sealed ? write() : this.chain.then(write);
    this.chain = written.finally(done).catch(this.onError);
  }

  private async writeParts(parts: Uint8Array[]): Promise<void> {
    // Once the socket has taken them, the packets' buffers go back to the encoder for reuse.
    if (this.socket.writev) await this.socket.writev(parts, () => this.encoder.release(parts));
    else if (parts.length === 1) await this.socket.write(parts[0]!);
    else await this.socket.write(concat(...parts));
  }
}
