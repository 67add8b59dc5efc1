/**
 * SFTP packet framing over channel data (draft §3): each packet is a uint32 length followed by
 * that many bytes (type byte + body). Channel data arrives in chunks split anywhere; SftpFramer
 * reassembles packets, handing out a view into the chunk when a packet lies inside one chunk and
 * copying only packets that span chunks.
 */
import { ProtocolError } from "../errors.js";
import { ByteQueue } from "../ssh/transport/byte-queue.js";

/**
 * Default limit on a packet's length field: OpenSSH's 256 KiB message limit plus 1 KiB for the
 * header around a full 256 KiB DATA or WRITE payload.
 */
export const DEFAULT_MAX_PACKET_LENGTH = 256 * 1024 + 1024;

export class SftpFramer {
  private queue = new ByteQueue();
  private pending = -1; // length of the packet being assembled, once its length field is read
  private failed: ProtocolError | undefined;

  /** `maxPacketLength` bounds the length field (the bytes after it). */
  constructor(readonly maxPacketLength: number = DEFAULT_MAX_PACKET_LENGTH) {}

  /** Bytes received and not yet returned as part of a packet. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Adds a chunk of channel data. The framer keeps a reference: do not reuse the chunk. */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    this.queue.push(chunk);
  }

  /**
   * The next complete packet (type byte + body), or undefined when more bytes are needed.
   * A length of 0 or above `maxPacketLength` throws ProtocolError ("SFTP_BAD_PACKET" or
   * "SFTP_PACKET_TOO_LARGE") as soon as the length field is read, before any body is waited
   * for; the framer then stays failed.
   */
  next(): Uint8Array | undefined {
    if (this.failed) throw this.failed;
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
    if (this.queue.length < this.pending) return undefined;
    const packet = this.queue.take(this.pending);
    this.pending = -1;
    return packet;
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
    throw err;
  }
}
