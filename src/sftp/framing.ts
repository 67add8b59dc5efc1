/**
 * SFTP packet framing over channel data (draft §3): each packet is a uint32 length followed by
 * that many bytes (type byte + body). Channel data arrives in chunks split anywhere; SftpFramer
 * reassembles packets, handing out a view into the chunk when a packet lies inside one chunk and
 * copying only packets that span chunks (into their own buffer, as their bytes arrive).
 */
import { ProtocolError } from "../errors.js";
import { ByteQueue } from "../ssh/transport/byte-queue.js";
import { BufferPool } from "../util/buffer-pool.js";

/**
 * Default limit on a packet's length field: OpenSSH's 256 KiB message limit plus 1 KiB for the
 * header around a full 256 KiB DATA or WRITE payload.
 */
export const DEFAULT_MAX_PACKET_LENGTH = 256 * 1024 + 1024;

/**
 * Packets from this long up to the default limit are reassembled in pooled buffers of that limit
 * (see `recycle`), as many waiting as a download keeps READs in flight (64, pipeline.ts): when
 * the client is the slower side every reply of the pipeline arrives before the first is
 * written, and with 8 pooled (2 MiB) 330-520 of a 256 MiB download's 1,024 replies took a new
 * buffer (outside V8's heap, so each one hastens a GC); with 64 about the first 64 do. A
 * buffer given back is kept only while the pool holds fewer than the replies still to come or
 * waiting to be consumed (at least 8, 2 MiB); when a read pipeline stops, the pool is trimmed
 * to that (see `trim`), and an idle session keeps 2 MiB, not 16. Counting only the unanswered
 * requests kept 8 while the replies piled up unconsumed, and a 1 GiB download then took 615 new
 * buffers instead of about 64 (bench rss job).
 */
const POOLED_MIN = 64 * 1024;
const POOLED_SIZE = DEFAULT_MAX_PACKET_LENGTH;
const POOLED_IDLE = 8;
const POOLED_MAX = 64;

export class SftpFramer {
  private queue = new ByteQueue();
  private pending = -1; // length of the packet being assembled, once its length field is read
  /**
   * A packet longer than what is buffered is copied into its own buffer as chunks arrive, so the
   * chunks (views into decrypted SSH packets) die young instead of waiting, maybe across many
   * reads, for the rest of a 255 KiB DATA: the same single copy, far less for the GC to move.
   */
  private partial: Uint8Array | undefined;
  private filled = 0;
  private failed: ProtocolError | undefined;
  private readonly pool = new BufferPool(POOLED_SIZE, POOLED_MAX * POOLED_SIZE);

  /** `maxPacketLength` bounds the length field (the bytes after it). */
  constructor(readonly maxPacketLength: number = DEFAULT_MAX_PACKET_LENGTH) {}

  /** Bytes received and not yet returned as part of a packet. */
  get buffered(): number {
    return this.queue.length + this.filled;
  }

  /** Adds a chunk of channel data. The framer may keep a reference: do not reuse the chunk. */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (this.partial) {
      const n = Math.min(chunk.length, this.partial.length - this.filled);
      this.partial.set(chunk.subarray(0, n), this.filled);
      this.filled += n;
      chunk = chunk.subarray(n);
    }
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
    if (this.partial) {
      if (this.filled < this.partial.length) return undefined;
      const packet = this.partial;
      this.partial = undefined;
      this.filled = 0;
      return packet;
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
      // Spanning chunks, it is copied: into pooled memory like a packet assembled as it arrives.
      const packet = this.queue.take(this.pending, this.reassembly);
      this.pending = -1;
      return packet;
    }
    // Not all here yet: from now on the packet fills its own buffer (see `partial`).
    this.filled = this.queue.length;
    this.partial = this.reassemblyBuffer(this.pending);
    if (this.filled > 0) this.partial.set(this.queue.take(this.filled));
    this.pending = -1;
    return undefined;
  }

  /**
   * Gives a packet's memory back for reuse once nothing refers to it any more (any view into
   * the packet will do; others are ignored). A download hands back each DATA after writing it
   * to disk: without this, every 255 KiB reply is a fresh buffer for the GC to reclaim.
   * `wanted`, the replies still to come or not yet consumed, bounds how many the pool keeps
   * (see POOLED_IDLE).
   */
  recycle(view: Uint8Array, wanted = 0): void {
    this.pool.give(view, Math.min(POOLED_MAX, Math.max(POOLED_IDLE, wanted)) * POOLED_SIZE);
  }

  /** Bytes of reply buffers waiting in the pool. */
  get pooled(): number {
    return this.pool.pooled;
  }

  /**
   * Keeps only as many pooled buffers as `wanted` replies need (at least POOLED_IDLE): a read
   * pipeline that stopped calls this, so an idle session holds 2 MiB, not the 16 MiB a
   * download's pipeline filled.
   */
  trim(wanted = 0): void {
    this.pool.trim(Math.min(POOLED_MAX, Math.max(POOLED_IDLE, wanted)) * POOLED_SIZE);
  }

  private readonly reassembly = (length: number) => this.reassemblyBuffer(length);

  private reassemblyBuffer(length: number): Uint8Array {
    // A limit raised above the default (a server's setting) gets exact buffers: pooling at that
    // size would allocate the whole limit for every large packet.
    if (length < POOLED_MIN || length > POOLED_SIZE) return new Uint8Array(length);
    return this.pool.take(POOLED_SIZE).subarray(0, length);
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
    this.partial = undefined;
    this.filled = 0;
    throw err;
  }
}
