/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305). Not RFC 8439's AEAD:
 * original ChaCha20 (64-bit nonce, 64-bit block counter), two keys, and Poly1305 over the
 * raw encrypted length || ciphertext with no padding or length block.
 *
 * Per packet, with nonce = seq as a uint64 (big-endian, RFC 4251 §5):
 *   length     = ChaCha20(K_1, nonce, counter 0) xor packet_length (4 bytes)
 *   poly key   = first 32 bytes of ChaCha20(K_2, nonce, counter 0)
 *   ciphertext = ChaCha20(K_2, nonce, counter 1) xor (padding_length || payload || padding)
 *   tag        = Poly1305(poly key, encrypted length || ciphertext)
 * Everything is derived from seq, so the sealer and opener keep no state between packets.
 */
import { withMacRoom, type CipherAlgorithm, type DirectionKeys, type PacketOpener, type PacketSealer } from "./cipher.js";
import { equalBytes } from "./constant-time.js";
import type { ChachaKey, ChachaStream, CryptoSuite, PolyKey } from "./primitives.js";
import { ProtocolError } from "../../errors.js";

const NAME = "chacha20-poly1305@openssh.com";
const TAG = 16;
const ZEROS = new Uint8Array(64);

const protection = {
  name: NAME,
  // PROTOCOL.chacha20poly1305 gives no block size; OpenSSH's cipher table uses 8, the RFC
  // 4253 §6 minimum. The length is outside the alignment, as for every AEAD in packet.c.
  blockSize: 8,
  macLength: TAG,
  lengthExcludedFromPadding: true,
} as const;

/**
 * The two 256-bit keys: "The first 256 bits constitute K_2 and the second 256 bits become K_1."
 * ChaCha20 and Poly1305 come from the suite: node:crypto where it works (Poly1305 through its
 * RFC 8439 AEAD, keyed with K_2 like the one-time keys), else noble.
 */
function setup(keys: DirectionKeys, suite: CryptoSuite) {
  if (keys.key.length < 64) {
    throw new ProtocolError(`${NAME} needs a 64-byte key, got ${keys.key.length}`, "KEY_LENGTH");
  }
  const k2 = suite.chacha20(keys.key.subarray(0, 32));
  const k1 = suite.chacha20(keys.key.subarray(32, 64));
  const poly = suite.poly1305(keys.key.subarray(0, 32));
  return { x: scratch(k1, k2, poly), implementation: `chacha20: ${k2.implementation}, poly1305: ${poly.implementation}` };
}

/**
 * Per-direction scratch: the 8-byte nonce and the Poly1305 key are rebuilt for every packet, so
 * they live in buffers reused across packets rather than in fresh allocations. Calls are
 * synchronous, so one set per sealer or opener is never shared by two packets at once.
 */
function scratch(k1: ChachaKey, k2: ChachaKey, poly: PolyKey) {
  const nonce = new Uint8Array(8);
  const polyKey = new Uint8Array(64);
  const length = new Uint8Array(4);
  const last = { seq: -1, wire: new Uint8Array(4), length: 0 };
  return {
    /** Sets the nonce to seq as a uint64; the high 32 bits stay 0 (seq is a uint32). */
    nonceFor(seq: number): Uint8Array {
      nonce[4] = seq >>> 24;
      nonce[5] = seq >>> 16;
      nonce[6] = seq >>> 8;
      nonce[7] = seq;
      return nonce;
    },
    /**
     * Starts K_2's keystream for this packet (the nonce must be set): block 0 gives the
     * Poly1305 key, and the returned stream goes on at block 1, the payload's.
     */
    payloadStream(): ChachaStream {
      const stream = k2.stream(nonce);
      stream.xor(ZEROS, polyKey);
      return stream;
    },
    /** Poly1305 of `data` under this packet's key (payloadStream() made it), written to `out`. */
    tag(data: Uint8Array, out: Uint8Array): void {
      poly.tag(nonce, polyKey, data, out);
      polyKey.fill(0);
    },
    /** Encrypts or decrypts packet_length in place with K_1 (the nonce must be set). */
    crypt(bytes: Uint8Array): void {
      k1.stream(nonce).xor(bytes, bytes);
    },
    /**
     * Decrypts packet_length with K_1 (the nonce must be set). The decoder asks for the length
     * of a packet before opening it; the answer for the same seq and bytes is kept, so each
     * packet's length costs one ChaCha20 block, not two.
     */
    length(seq: number, header: Uint8Array): number {
      if (header.length < 4) throw new ProtocolError("packet header shorter than 4 bytes", "BAD_LENGTH");
      if (seq === last.seq && header[0] === last.wire[0] && header[1] === last.wire[1] && header[2] === last.wire[2] && header[3] === last.wire[3]) {
        return last.length;
      }
      last.wire.set(header.subarray(0, 4));
      length.set(last.wire);
      k1.stream(nonce).xor(length, length);
      last.seq = seq;
      last.length = ((length[0]! << 24) | (length[1]! << 16) | (length[2]! << 8) | length[3]!) >>> 0;
      return last.length;
    },
  };
}

function createSealer(keys: DirectionKeys, suite: CryptoSuite): PacketSealer {
  const { x, implementation } = setup(keys, suite);
  return {
    ...protection,
    implementation,
    seal(seq, packet) {
      const n = packet.length;
      const out = withMacRoom(packet, TAG); // encrypted in place, tag in the room after it
      x.nonceFor(seq);
      x.crypt(out.subarray(0, 4));
      const body = out.subarray(4, n);
      x.payloadStream().xor(body, body);
      x.tag(out.subarray(0, n), out.subarray(n));
      return out;
    },
  };
}

function createOpener(keys: DirectionKeys, suite: CryptoSuite): PacketOpener {
  const { x, implementation } = setup(keys, suite);
  const tag = new Uint8Array(TAG);
  return {
    ...protection,
    implementation,
    headerLength: 4,
    packetLength: (seq, header) => {
      x.nonceFor(seq);
      return x.length(seq, header);
    },
    open(seq, wire) {
      x.nonceFor(seq);
      const length = x.length(seq, wire);
      if (wire.length !== 4 + length + TAG || length < 5 || length % protection.blockSize !== 0) {
        throw new ProtocolError(`bad packet length ${length} for ${wire.length} bytes`, "BAD_LENGTH");
      }
      const end = 4 + length;
      const stream = x.payloadStream();
      // "the MAC MUST be checked before decryption" (PROTOCOL.chacha20poly1305).
      x.tag(wire.subarray(0, end), tag);
      if (!equalBytes(tag, wire.subarray(end))) {
        throw new ProtocolError("packet authentication failed (chacha20-poly1305 tag mismatch)", "BAD_MAC");
      }
      // Into memory of its own, not in place: `wire` lies in the socket's read buffer, which is
      // read into again once every packet in it is done with (ByteChannel.release). A plaintext
      // left in it would keep that 2 MiB buffer from ever being reused: a fresh one, its pages
      // faulted in anew, for every 2 MiB received. node:crypto's output is that memory already
      // (one 32 KiB buffer a packet, not two and a copy).
      return stream.xor(wire.subarray(4, end));
    },
  };
}

export const CHACHA20_POLY1305: CipherAlgorithm = {
  name: NAME,
  keyLength: 64,
  ivLength: 0,
  blockSize: protection.blockSize,
  aead: true,
  createSealer: (keys, _mac, suite) => createSealer(keys, suite),
  createOpener: (keys, _mac, suite) => createOpener(keys, suite),
};
