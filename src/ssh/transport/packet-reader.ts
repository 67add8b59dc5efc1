/**
 * The incoming half of the binary packet protocol (RFC 4253 §6) on a socket: reads bytes,
 * reassembles and opens packets, and hands out their payloads in order. With an asynchronous
 * cipher (platform AES) the packets already buffered are opened concurrently, and while the
 * oldest is awaited one socket read stays outstanding, so the packets behind it start opening
 * too instead of waiting for it.
 */
import { ConnectionError } from "../../errors.js";
import type { ByteChannel } from "../socket/byte-channel.js";
import { PacketDecoder } from "./framing.js";

/** Packets opened concurrently by an asynchronous cipher. */
const MAX_OPEN_AHEAD = 32;

export class PacketReader {
  /** Opener, sequence number and counters of the incoming direction (swapped at NEWKEYS). */
  readonly decoder = new PacketDecoder();
  private readonly opened: { payload: Promise<Uint8Array>; async: boolean }[] = [];
  private reading: Promise<Uint8Array | null> | undefined;
  private ended = false;

  /**
   * `mayOpenAhead` says whether packets may be opened before the ones ahead of them have been
   * handled: not during a key exchange, where a NEWKEYS switches the opener for what follows.
   * `peer` names the other side in errors.
   */
  constructor(
    private readonly socket: ByteChannel,
    private readonly peer: string,
    private readonly mayOpenAhead: () => boolean,
  ) {
    if (socket.release) this.decoder.release = (chunk) => socket.release!(chunk);
  }

  /** The next payload in order; CONNECTION_LOST once the stream has ended. */
  async next(): Promise<Uint8Array> {
    const opened = this.opened;
    for (;;) {
      while (opened.length < MAX_OPEN_AHEAD && (opened.length === 0 || this.mayOpenAhead())) {
        const next = this.decoder.next();
        if (next === undefined) break;
        if (!(next instanceof Promise)) {
          opened.push({ payload: Promise.resolve(next), async: false });
          break;
        }
        next.catch(() => {}); // awaited below, in order; never left unhandled
        opened.push({ payload: next, async: true });
      }
      if (opened.length === 0) {
        if (this.ended) throw new ConnectionError("CONNECTION_LOST", `the ${this.peer} closed the connection`);
        this.take(await (this.reading ?? this.socket.read()));
        continue;
      }
      const head = opened[0]!;
      if (head.async && !this.ended && opened.length < MAX_OPEN_AHEAD) {
        const read = (this.reading ??= this.socket.read());
        const settled = () => false;
        if (await Promise.race([head.payload.then(settled, settled), read.then(() => true, () => true)])) {
          this.take(await read);
          continue;
        }
      }
      opened.shift();
      return head.payload;
    }
  }

  private take(chunk: Uint8Array | null): void {
    this.reading = undefined;
    if (chunk) this.decoder.push(chunk);
    else this.ended = true;
  }
}
