/**
 * The outgoing half of the binary packet protocol (RFC 4253 §6) on a socket: frames and seals
 * each payload as it is sent, and writes every packet queued in one turn of the event loop with
 * one socket write (writev when the socket has it), in order, even when sealing is asynchronous.
 */
import type { ByteChannel } from "../socket/byte-channel.js";
import { concat } from "../wire/writer.js";
import { PacketEncoder } from "./framing.js";

/** Packets per socket write while sealing is asynchronous: 8 × 32 KiB, 256 KiB per write. */
const ASYNC_SLICE = 8;

export class PacketWriter {
  /** Sealer, sequence number and packet count of the outgoing direction (swapped at NEWKEYS). */
  readonly encoder = new PacketEncoder();
  private outbox: (Uint8Array | Promise<Uint8Array>)[] = [];
  private flushScheduled = false;
  private chain: Promise<void> = Promise.resolve();

  /** `onError` hears of a failed seal or socket write; the writer does nothing more after one. */
  constructor(
    private readonly socket: ByteChannel,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Frames and seals one payload (given as consecutive parts) and queues it for the next write. */
  write(...parts: Uint8Array[]): void {
    this.outbox.push(this.encoder.encode(...parts));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
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
    this.flushScheduled = false;
    const batch = this.outbox;
    this.outbox = [];
    this.chain = this.chain.then(async () => {
      if (!batch.some((p) => p instanceof Promise)) return this.writeParts(batch as Uint8Array[]);
      // Asynchronous sealing (platform AES): write in slices as they are sealed rather than
      // after the whole batch, so the first bytes reach the peer while the rest is encrypted.
      for (let i = 0; i < batch.length; i += ASYNC_SLICE) {
        await this.writeParts(await Promise.all(batch.slice(i, i + ASYNC_SLICE)));
      }
    }).catch(this.onError);
  }

  private async writeParts(parts: Uint8Array[]): Promise<void> {
    if (parts.length === 1) await this.socket.write(parts[0]!);
    else if (this.socket.writev) await this.socket.writev(parts);
    else await this.socket.write(concat(...parts));
  }
}
