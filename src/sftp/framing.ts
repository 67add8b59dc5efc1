/**
 * SFTP packet framing over channel data (draft §3): each packet is a uint32 length followed by
 * that many bytes (type byte + body). Channel data arrives in chunks split anywhere; SftpFramer
 * reassembles packets, handing out a view into the chunk when a packet lies inside one chunk.
 * A packet that spans chunks is kept as views of them, its parts: `nextParts` hands those out
 * as they are (a download writes a DATA reply's parts to disk without ever joining them, which
 * was a copy of every byte downloaded), `next` joins them into one buffer.
 */
import { ProtocolError } from "../errors.js";
import { ByteQueue } from "../ssh/transport/byte-queue.js";
import { uninitialized } from "../platform/memory.js";

/**
 * Default limit on a packet's length field: OpenSSH's 256 KiB message limit plus 1 KiB for the
 * header around a full 256 KiB DATA or WRITE payload.
 */
export const DEFAULT_MAX_PACKET_LENGTH = 256 * 1024 + 1024;

/**
 * A packet is kept as at most this many parts: beyond that (a peer sending its data in tiny
 * channel messages) the parts are joined into one buffer and the rest is copied in as it
 * arrives, so neither the list nor the work grows with the number of chunks.
 */
const MAX_PARTS = 64;

export class SftpFramer {
  private queue = new ByteQueue();
  private pending = -1; // length of the packet being assembled, once its length field is read
  /**
   * The packet longer than what was buffered, being assembled: views of the chunks it spans
   * (which stay valid: Channel.onData), or, past MAX_PARTS, one buffer the bytes are copied
   * into (`joined`). It is `total` bytes long, `missing` of them still to come.
   */
  private parts: Uint8Array[] | undefined;
  private joined: Uint8Array | undefined;
  private total = 0;
  private missing = 0;
  private failed: ProtocolError | undefined;

  /** `maxPacketLength` bounds the length field (the bytes after it). */
  constructor(readonly maxPacketLength: number = DEFAULT_MAX_PACKET_LENGTH) {}

  /** Bytes received and not yet returned as part of a packet. */
  get buffered(): number {
    return this.queue.length + (this.parts ? this.total - this.missing : 0);
  }

  /** Adds a chunk of channel data. The framer may keep a reference: do not reuse the chunk. */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (this.parts && this.missing > 0 && chunk.length > 0) {
      const n = Math.min(chunk.length, this.missing);
      const at = this.total - this.missing;
      this.missing -= n;
      if (this.joined) {
        this.joined.set(chunk.subarray(0, n), at);
      } else {
        this.parts.push(n === chunk.length ? chunk : chunk.subarray(0, n));
        if (this.parts.length >= MAX_PARTS && this.missing > 0) this.join();
      }
      chunk = chunk.subarray(n);
    }
    this.queue.push(chunk);
  }

  /**
   * The next complete packet (type byte + body) in one buffer, or undefined when more bytes
   * are needed. A length of 0 or above `maxPacketLength` throws ProtocolError
   * ("SFTP_BAD_PACKET" or "SFTP_PACKET_TOO_LARGE") as soon as the length field is read, before
   * any body is waited for; the framer then stays failed.
   */
  next(): Uint8Array | undefined {
    const parts = this.nextParts();
    if (parts === undefined || parts.length === 1) return parts?.[0];
    const length = parts.reduce((n, p) => n + p.length, 0);
    const packet = uninitialized(length); // every byte written below
    let at = 0;
    for (const p of parts) {
      packet.set(p, at);
      at += p.length;
    }
    return packet;
  }

  /**
   * The next complete packet as `next` would return it, but as consecutive parts (views of the
   * chunks pushed, at most MAX_PARTS of them, none empty) when it spans chunks, without joining
   * them; undefined when more bytes are needed. Throws as `next`.
   */
  nextParts(): Uint8Array[] | undefined {
    if (this.failed) throw this.failed;
    if (this.parts) {
      if (this.missing > 0) return undefined;
      const parts = this.joined ? [this.joined] : this.parts;
      this.parts = undefined;
      this.joined = undefined;
      return parts;
    }
    if (this.pending < 0) {
      if (this.queue.length < 4) return undefined;
      const head = this.queue.take(4);
      const len = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
      if (len === 0) return this.fail(new ProtocolError("SFTP packet of length 0 has no type byte", "SFTP_BAD_PACKET"));
      if (len > this.maxPacketLength) {
        return this.fail(
          new ProtocolError(
            `SFTP packet length ${len} exceeds the ${this.maxPacketLength}-byte limit`,
            "SFTP_PACKET_TOO_LARGE",
          ),
        );
      }
      this.pending = len;
    }
    if (this.queue.length >= this.pending) {
      const packet = this.queue.take(this.pending);
      this.pending = -1;
      return [packet];
    }
    // Not all here yet: what is buffered becomes the first parts (see `parts`). Usually a
    // chunk or two, but a server that stopped taking requests for a while may have many queued.
    this.total = this.pending;
    this.missing = this.pending - this.queue.length;
    this.parts = this.queue.takeViews();
    this.pending = -1;
    if (this.parts.length >= MAX_PARTS) this.join();
    return undefined;
  }

  /** Past MAX_PARTS: the parts so far go into one buffer, and the rest will be copied after them. */
  private join(): void {
    const buffer = uninitialized(this.total); // every byte written here or by push
    let at = 0;
    for (const p of this.parts!) {
      buffer.set(p, at);
      at += p.length;
    }
    this.joined = buffer;
    this.parts = [];
  }

  /** Pushes a chunk and returns every packet now complete, in order. */
  feed(chunk: Uint8Array): Uint8Array[] {
    this.push(chunk);
    const out: Uint8Array[] = [];
    for (let p = this.next(); p !== undefined; p = this.next()) out.push(p);
    return out;
  }

  private fail(err: ProtocolError): never {
    this.failed = err;
    this.queue = new ByteQueue(); // drop what was buffered; nothing more is read
    this.parts = undefined;
    this.joined = undefined;
    this.missing = 0;
    throw err;
  }
}
