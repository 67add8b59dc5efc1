/**
 * aes128-ctr, aes192-ctr, aes256-ctr (RFC 4344 §4) with an HMAC from mac.ts, in either the
 * RFC 4253 §6.4 order (MAC over the plaintext, length encrypted) or OpenSSH's
 * encrypt-then-MAC order (PROTOCOL §1.5: length in the clear, MAC over the ciphertext).
 *
 * RFC 4344 §4: the IV is a 128-bit big-endian counter X; block i of the stream is encrypted
 * with E(K, X) and X is then incremented mod 2^128. The stream runs on across packets, so
 * each packet (always whole blocks) moves the counter on by its number of blocks.
 */
import {
  withMacRoom,
  type CipherAlgorithm,
  type DirectionKeys,
  type MacAlgorithm,
  type PacketOpener,
  type PacketSealer,
} from "./cipher.js";
import { equalBytes } from "./constant-time.js";
import type { Bytes, CryptoSuite } from "./primitives.js";
import { ProtocolError } from "../../errors.js";
import { uninitialized } from "../../platform/memory.js";

const BLOCK = 16;

const then = (value: Bytes, next: (bytes: Uint8Array) => Uint8Array): Bytes =>
  value instanceof Promise ? value.then(next) : next(value);

/**
 * `plain`, or a copy of it when it lies in `wire`'s memory (a stream that decrypted in place):
 * the packet layer reuses the socket's read buffer only once no result lies in it
 * (PacketOpener.open).
 */
function ownMemory(plain: Uint8Array, wire: Uint8Array): Uint8Array {
  return plain.buffer === wire.buffer ? plain.slice() : plain;
}

function readLength(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

function lengthError(length: number, size: number): ProtocolError {
  return new ProtocolError(`bad packet length ${length} for ${size} bytes`, "BAD_LENGTH");
}

function macError(name: string): ProtocolError {
  return new ProtocolError(`packet authentication failed (${name} mismatch)`, "BAD_MAC");
}

function ctrAlgorithm(name: string, keyLength: number): CipherAlgorithm {
  function setup(keys: DirectionKeys, mac: MacAlgorithm | undefined, suite: CryptoSuite) {
    if (!mac) throw new ProtocolError(`${name} needs a MAC algorithm`, "NO_MAC");
    if (keys.key.length < keyLength || keys.iv.length < BLOCK) {
      throw new ProtocolError(`${name} needs a ${keyLength}-byte key and 16-byte IV`, "KEY_LENGTH");
    }
    const stream = suite.ctr(keys.key.subarray(0, keyLength), keys.iv.subarray(0, BLOCK));
    const packetMac = mac.create(keys.macKey, suite);
    const protection = {
      name,
      blockSize: BLOCK,
      macLength: mac.length,
      // OpenSSH packet.c: with -etm only the bytes after packet_length are encrypted and aligned.
      lengthExcludedFromPadding: mac.etm,
      implementation: `aes-ctr: ${stream.implementation}, ${packetMac.implementation}`,
    } as const;
    return { mac, stream, protection, computeMac: (seq: number, data: Uint8Array) => packetMac.compute(seq, data) };
  }

  function createSealer(keys: DirectionKeys, mac: MacAlgorithm | undefined, suite: CryptoSuite): PacketSealer {
    const s = setup(keys, mac, suite);
    const macLength = s.mac.length;
    return {
      ...s.protection,
      seal(seq, packet) {
        const n = packet.length;
        const etm = s.mac.etm;
        if ((etm ? n - 4 : n) % BLOCK !== 0) throw lengthError(readLength(packet), n);
        const out = withMacRoom(packet, macLength);
        const encrypted = out.subarray(etm ? 4 : 0, n);
        // RFC 4253 §6.4: MAC over seq || the unencrypted packet, taken before encryption.
        const plainMac = etm ? undefined : s.computeMac(seq, out.subarray(0, n));
        // The stream position is taken at the call, so concurrent seals stay in packet order.
        return then(s.stream.xor(encrypted), (cipher) => {
          if (cipher !== encrypted) encrypted.set(cipher);
          // PROTOCOL §1.5: MAC over seq || packet_length || encrypted packet.
          out.set(plainMac ?? s.computeMac(seq, out.subarray(0, n)), n);
          return out;
        });
      },
    };
  }

  function createOpener(keys: DirectionKeys, mac: MacAlgorithm | undefined, suite: CryptoSuite): PacketOpener {
    const s = setup(keys, mac, suite);
    const macLength = s.mac.length;
    if (s.mac.etm) {
      return {
        ...s.protection,
        headerLength: 4,
        packetLength: (_seq, header) => {
          if (header.length < 4) throw lengthError(0, header.length);
          return readLength(header);
        },
        open(seq, wire) {
          const length = wire.length >= 4 ? readLength(wire) : 0;
          const end = 4 + length;
          if (wire.length !== end + macLength || length < 5 || length % BLOCK !== 0) {
            throw lengthError(length, wire.length);
          }
          // Verify before decrypting: no unauthenticated ciphertext reaches AES (PROTOCOL §1.5).
          if (!equalBytes(s.computeMac(seq, wire.subarray(0, end)), wire.subarray(end))) {
            throw macError(s.mac.name);
          }
          // Decrypted in place (noble, aligned), the plaintext would pin the socket's read
          // buffer: moved out (ownMemory).
          return then(s.stream.xor(wire.subarray(4, end)), (plain) => ownMemory(plain, wire));
        },
      };
    }
    // The length is encrypted: its first cipher block is decrypted to read it, which moves the
    // stream on by one block, so that block's plaintext is kept for open() (keyed by seq and
    // the ciphertext, as packetLength may be asked twice about one packet).
    const first = { seq: -1, wire: new Uint8Array(BLOCK), plain: new Uint8Array(BLOCK) };
    const firstBlock = (seq: number, header: Uint8Array): Uint8Array => {
      if (seq !== first.seq || !equalBytes(header.subarray(0, BLOCK), first.wire)) {
        first.wire.set(header.subarray(0, BLOCK));
        first.plain.set(s.stream.xorSync(header.slice(0, BLOCK)));
        first.seq = seq;
      }
      return first.plain;
    };
    return {
      ...s.protection,
      headerLength: BLOCK,
      packetLength(seq, header) {
        if (header.length < BLOCK) throw lengthError(0, header.length);
        return readLength(firstBlock(seq, header));
      },
      open(seq, wire) {
        const end = wire.length - macLength;
        if (end < BLOCK || end % BLOCK !== 0) throw lengthError(end - 4, wire.length);
        const head = firstBlock(seq, wire);
        first.seq = -1; // used up: the next packet with this seq (after a wrap) is decrypted afresh
        const decrypting = s.stream.xor(wire.subarray(BLOCK, end));
        // Into memory of its own, not in place: `wire` lies in the socket's read buffer, which
        // is read into again once every packet in it is done with; a plaintext left there would
        // keep that buffer from reuse (as in chacha20-poly1305.ts). The first block now: `head`
        // is scratch that the next packet's packetLength overwrites.
        const plain = uninitialized(end);
        plain.set(head);
        return then(decrypting, (restPlain) => {
          plain.set(restPlain, BLOCK);
          const length = readLength(plain);
          if (length !== end - 4 || length < 5) throw lengthError(length, wire.length);
          if (!equalBytes(s.computeMac(seq, plain), wire.subarray(end))) throw macError(s.mac.name);
          return plain.subarray(4);
        });
      },
    };
  }

  return { name, keyLength, ivLength: BLOCK, blockSize: BLOCK, aead: false, createSealer, createOpener };
}

export const AES128_CTR = ctrAlgorithm("aes128-ctr", 16);
export const AES192_CTR = ctrAlgorithm("aes192-ctr", 24);
export const AES256_CTR = ctrAlgorithm("aes256-ctr", 32);
