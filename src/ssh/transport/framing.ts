/**
 * The binary packet protocol (RFC 4253 §6): turns payloads into protected packets and back.
 * Each direction owns its cipher state and sequence number; the transport swaps the cipher at
 * NEWKEYS and resets the sequence numbers when strict kex is in force.
 */
import { ProtocolError } from "../../errors.js";
import type { PacketOpener, PacketSealer } from "../crypto/cipher.js";
import { noneOpener, noneSealer } from "../crypto/none.js";
import { ByteQueue } from "./byte-queue.js";
import { BufferPool } from "../../util/buffer-pool.js";

/**
 * Largest packet_length we accept, as OpenSSH (PACKET_MAX_SIZE): 256 KiB. RFC 4253 §6.1 only
 * requires 35000; anything bigger is a hostile or broken peer.
 */
export const MAX_PACKET_LENGTH = 256 * 1024;

/** Outgoing direction: frames payloads with padding and protects them. */
export class PacketEncoder {
  sealer: PacketSealer = noneSealer;
  seq = 0;
  /** Packets sent since the counter was last reset (the transport uses it for rekey limits). */
  packets = 0;
  private readonly random = new RandomPool();
  /**
   * Buffers of packets already written, for the next packets of their size (a bulk upload's
   * packets all have one). Small packets are not pooled.
   */
  private readonly spare = new BufferPool(4096, 4 * 1024 * 1024);

  /**
   * Frames and seals one payload given as one or more consecutive parts (a message header and
   * the data it carries, say), copied once into the packet; returns the bytes to write (maybe
   * asynchronously).
   */
  encode(...parts: Uint8Array[]): Uint8Array | Promise<Uint8Array> {
    const s = this.sealer;
    const bs = s.blockSize;
    let payloadLength = 0;
    for (const p of parts) payloadLength += p.length;
    // RFC 4253 §6: (packet_length || padding_length || payload || padding) is a multiple of the
    // block size, padding is 4..255 bytes. AEAD/EtM modes leave packet_length out of the sum.
    const covered = 1 + payloadLength + (s.lengthExcludedFromPadding ? 0 : 4);
    let pad = bs - (covered % bs);
    if (pad < 4) pad += bs;
    const packetLength = 1 + payloadLength + pad;
    if (packetLength > MAX_PACKET_LENGTH) {
      throw new ProtocolError(`outgoing packet of ${packetLength} bytes exceeds the ${MAX_PACKET_LENGTH}-byte limit`);
    }
    // One buffer for the whole wire packet: the sealer encrypts in place and writes its MAC
    // into the room left after the padding. Every byte of it is written below or by the sealer,
    // so a reused buffer shows nothing of its last packet.
    const packet = this.spare.take(4 + packetLength + s.macLength);
    packet[0] = packetLength >>> 24;
    packet[1] = packetLength >>> 16;
    packet[2] = packetLength >>> 8;
    packet[3] = packetLength;
    packet[4] = pad;
    let at = 5;
    for (const p of parts) {
      packet.set(p, at);
      at += p.length;
    }
    this.random.fill(packet.subarray(at, at + pad));
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    this.packets++;
    return s.seal(seq, packet.subarray(0, 4 + packetLength));
  }

  /**
   * The packets (as returned by `encode`) have been written out and nothing refers to them any
   * more: their buffers may take later packets of the same size. Others are ignored.
   */
  release(packets: Uint8Array[]): void {
    for (const p of packets) this.spare.give(p);
  }

  /** Drops the spare packet buffers (the connection went quiet: see idle-trim.ts). */
  trim(): void {
    this.spare.clear();
  }

  /** Bytes of spare packet buffers kept for the next packets. */
  get spareBytes(): number {
    return this.spare.pooled;
  }
}

/**
 * Random padding bytes (RFC 4253 §6: "arbitrary-length padding ... SHOULD be random") drawn from
 * a pool refilled 4 KiB at a time, instead of one call into the platform's CSPRNG per packet.
 */
class RandomPool {
  private readonly pool = new Uint8Array(4096);
  private pos = this.pool.length;

  fill(target: Uint8Array): void {
    if (this.pos + target.length > this.pool.length) {
      crypto.getRandomValues(this.pool);
      this.pos = 0;
    }
    target.set(this.pool.subarray(this.pos, this.pos + target.length));
    this.pos += target.length;
  }
}

/** Incoming direction: reassembles packets from bytes split at any boundary. */
export class PacketDecoder {
  opener: PacketOpener = noneOpener;
  seq = 0;
  packets = 0;
  /** Bytes of the packets taken so far; the transport uses it for rekey limits. */
  bytes = 0;
  private readonly queue = new ByteQueue(true);
  private pendingLength = -1;
  /**
   * Where bytes pushed earlier may go back to once nothing refers to them (the socket's
   * ByteChannel.release): lets the socket read into that memory again instead of allocating.
   */
  release: ((chunk: Uint8Array) => void) | undefined;
  /**
   * Buffers some opened packet still refers to: an opener that decrypted in place returned a
   * view of the received bytes, or one still working asynchronously. Their chunks are never
   * released. (A synchronous opener that returns new memory is done with `wire` when it returns.)
   */
  private readonly held = new WeakSet<ArrayBufferLike>();

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  /** Bytes received but not yet part of a packet (used after the version exchange). */
  get buffered(): number {
    return this.queue.length;
  }

  /**
   * The next payload, or undefined when more bytes are needed. The result may be a promise for
   * asynchronous ciphers; the caller must not call `next` again before it settles, because the
   * transport may switch `opener` in between.
   */
  next(): Uint8Array | Promise<Uint8Array> | undefined {
    const o = this.opener;
    if (this.pendingLength < 0) {
      if (this.queue.length < o.headerLength) return undefined;
      const len = o.packetLength(this.seq, this.queue.peek(o.headerLength));
      if (len > MAX_PACKET_LENGTH || len < 5) {
        throw new ProtocolError(`packet length ${len} out of bounds (5..${MAX_PACKET_LENGTH})`, "BAD_PACKET_LENGTH");
      }
      if ((o.lengthExcludedFromPadding ? len : len + 4) % o.blockSize !== 0) {
        throw new ProtocolError(`packet length ${len} is not a multiple of the ${o.blockSize}-byte block`, "BAD_PACKET_LENGTH");
      }
      this.pendingLength = len;
    }
    const total = 4 + this.pendingLength + o.macLength;
    if (this.queue.length < total) return undefined;
    this.pendingLength = -1;
    const wire = this.queue.take(total);
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    this.packets++;
    this.bytes += total;
    const opened = o.open(seq, wire);
    const drained = this.queue.drained(); // taken every time: the queue keeps them until asked
    if (this.release) {
      if (opened instanceof Promise || opened.buffer === wire.buffer) this.held.add(wire.buffer);
      for (const c of drained) if (!this.held.has(c.buffer)) this.release(c);
    }
    return opened instanceof Promise ? opened.then(payloadOf) : payloadOf(opened);
  }
}

/** Strips padding_length and padding from an opened packet (RFC 4253 §6). */
function payloadOf(body: Uint8Array): Uint8Array {
  const pad = body[0]!;
  if (pad < 4 || pad + 1 >= body.length) {
    throw new ProtocolError(`invalid padding length ${pad} in a ${body.length + 4}-byte packet`);
  }
  return body.subarray(1, body.length - pad);
}
