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
import { chacha20orig } from "@noble/ciphers/chacha.js";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import type { CipherAlgorithm, DirectionKeys, PacketOpener, PacketSealer } from "./cipher.js";
import { equalBytes } from "./constant-time.js";
import { ProtocolError } from "../../errors.js";

const NAME = "chacha20-poly1305@openssh.com";
const TAG = 16;
const ZEROS = new Uint8Array(32);

const protection = {
  name: NAME,
  // PROTOCOL.chacha20poly1305 gives no block size; OpenSSH's cipher table uses 8, the RFC
  // 4253 §6 minimum. The length is outside the alignment, as for every AEAD in packet.c.
  blockSize: 8,
  macLength: TAG,
  lengthExcludedFromPadding: true,
} as const;

/** The two 256-bit keys: "The first 256 bits constitute K_2 and the second 256 bits become K_1." */
function splitKey(keys: DirectionKeys): { k1: Uint8Array; k2: Uint8Array } {
  if (keys.key.length < 64) {
    throw new ProtocolError(`${NAME} needs a 64-byte key, got ${keys.key.length}`, "KEY_LENGTH");
  }
  return { k2: keys.key.slice(0, 32), k1: keys.key.slice(32, 64) };
}

function nonceFor(seq: number): Uint8Array {
  const nonce = new Uint8Array(8);
  new DataView(nonce.buffer).setUint32(4, seq >>> 0); // high 32 bits stay 0: seq is a uint32
  return nonce;
}

function polyKey(k2: Uint8Array, nonce: Uint8Array): Uint8Array {
  return chacha20orig(k2, nonce, ZEROS, undefined, 0);
}

function decryptLength(k1: Uint8Array, seq: number, header: Uint8Array): number {
  if (header.length < 4) throw new ProtocolError("packet header shorter than 4 bytes", "BAD_LENGTH");
  const plain = chacha20orig(k1, nonceFor(seq), header.subarray(0, 4), undefined, 0);
  return new DataView(plain.buffer, plain.byteOffset, 4).getUint32(0);
}

function createSealer(keys: DirectionKeys): PacketSealer {
  const { k1, k2 } = splitKey(keys);
  return {
    ...protection,
    seal(seq, packet) {
      const n = packet.length;
      const nonce = nonceFor(seq);
      const out = new Uint8Array(n + TAG);
      chacha20orig(k1, nonce, packet.subarray(0, 4), out.subarray(0, 4), 0);
      chacha20orig(k2, nonce, packet.subarray(4), out.subarray(4, n), 1);
      out.set(poly1305(out.subarray(0, n), polyKey(k2, nonce)), n);
      return out;
    },
  };
}

function createOpener(keys: DirectionKeys): PacketOpener {
  const { k1, k2 } = splitKey(keys);
  return {
    ...protection,
    headerLength: 4,
    packetLength: (seq, header) => decryptLength(k1, seq, header),
    open(seq, wire) {
      const length = decryptLength(k1, seq, wire);
      if (wire.length !== 4 + length + TAG || length < 5 || length % protection.blockSize !== 0) {
        throw new ProtocolError(`bad packet length ${length} for ${wire.length} bytes`, "BAD_LENGTH");
      }
      const nonce = nonceFor(seq);
      const end = 4 + length;
      // "the MAC MUST be checked before decryption" (PROTOCOL.chacha20poly1305).
      const expected = poly1305(wire.subarray(0, end), polyKey(k2, nonce));
      if (!equalBytes(expected, wire.subarray(end))) {
        throw new ProtocolError("packet authentication failed (chacha20-poly1305 tag mismatch)", "BAD_MAC");
      }
      const body = wire.subarray(4, end);
      return chacha20orig(k2, nonce, body, body, 1); // in place: the caller hands `wire` over
    },
  };
}

export const CHACHA20_POLY1305: CipherAlgorithm = {
  name: NAME,
  keyLength: 64,
  ivLength: 0,
  blockSize: protection.blockSize,
  aead: true,
  // Pure noble on every backend: platforms ship no original-ChaCha20 to delegate to.
  createSealer: (keys) => createSealer(keys),
  createOpener: (keys) => createOpener(keys),
};
