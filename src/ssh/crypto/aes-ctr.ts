/**
 * aes128-ctr, aes192-ctr, aes256-ctr (RFC 4344 §4) with an HMAC from mac.ts, in either the
 * RFC 4253 §6.4 order (MAC over the plaintext, length encrypted) or OpenSSH's
 * encrypt-then-MAC order (PROTOCOL §1.5: length in the clear, MAC over the ciphertext).
 *
 * RFC 4344 §4: the IV is a 128-bit big-endian counter X; block i of the stream is encrypted
 * with E(K, X) and X is then incremented mod 2^128. The stream runs on across packets, so
 * each packet (always whole blocks) moves the counter on by its number of blocks.
 */
import { ctr } from "@noble/ciphers/aes.js";
import { hasWebCrypto, platformAes } from "./platform-aes.js";
import {
  withMacRoom,
  type CipherAlgorithm,
  type CryptoBackend,
  type DirectionKeys,
  type MacAlgorithm,
  type PacketOpener,
  type PacketSealer,
} from "./cipher.js";
import { equalBytes } from "./constant-time.js";
import { ProtocolError } from "../../errors.js";

const BLOCK = 16;

type Bytes = Uint8Array | Promise<Uint8Array>;
const then = (value: Bytes, next: (bytes: Uint8Array) => Uint8Array): Bytes =>
  value instanceof Promise ? value.then(next) : next(value);

function readLength(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

function lengthError(length: number, size: number): ProtocolError {
  return new ProtocolError(`bad packet length ${length} for ${size} bytes`, "BAD_LENGTH");
}

function macError(name: string): ProtocolError {
  return new ProtocolError(`packet authentication failed (${name} mismatch)`, "BAD_MAC");
}

/** One direction's keystream: hands out counter positions in call order, encrypts at a position. */
function keystream(key: Uint8Array, iv: Uint8Array, useWeb: boolean) {
  const counter = iv.slice(0, BLOCK);
  const web = useWeb ? platformAes("AES-CTR", key) : undefined;
  return {
    /** The counter for the next `blocks` blocks; advances now, so concurrent calls stay ordered. */
    take(blocks: number): Uint8Array {
      const start = counter.slice();
      let carry = blocks;
      for (let i = BLOCK - 1; i >= 0 && carry > 0; i--) {
        const sum = counter[i]! + (carry % 256);
        counter[i] = sum & 0xff;
        carry = Math.floor(carry / 256) + (sum >> 8);
      }
      return start;
    },
    /** Reads the counter without advancing it (for packetLength). */
    peek: (): Uint8Array => counter.slice(),
    /** XORs `data` with the keystream from `start` on noble, synchronously. */
    xorNow: (start: Uint8Array, data: Uint8Array): Uint8Array => ctr(key, start).encrypt(data),
    /**
     * XORs `data` with the keystream from `start` (CTR encryption and decryption are one): in
     * place on noble; WebCrypto returns a new buffer. Either way the caller owns `data` and
     * leaves it alone until the result is back.
     */
    xor(start: Uint8Array, data: Uint8Array): Bytes {
      // noble writes only to 4-byte-aligned outputs; a received packet may sit at any offset.
      if (!web) return ctr(key, start).encrypt(data, data.byteOffset % 4 === 0 ? data : undefined);
      // The whole 128-bit block is the counter (RFC 4344 §4), so it wraps as SSH expects.
      return web.encrypt({ name: "AES-CTR", counter: start, length: 128 }, data);
    },
  };
}

function ctrAlgorithm(name: string, keyLength: number): CipherAlgorithm {
  function setup(keys: DirectionKeys, mac: MacAlgorithm | undefined, backend: CryptoBackend) {
    if (!mac) throw new ProtocolError(`${name} needs a MAC algorithm`, "NO_MAC");
    if (keys.key.length < keyLength || keys.iv.length < BLOCK) {
      throw new ProtocolError(`${name} needs a ${keyLength}-byte key and 16-byte IV`, "KEY_LENGTH");
    }
    // Not every WebCrypto has AES-192 (Chromium refuses it), so aes192 stays on noble.
    const web = backend === "auto" && keyLength !== 24 && hasWebCrypto();
    const stream = keystream(keys.key.slice(0, keyLength), keys.iv, web);
    const protection = {
      name,
      blockSize: BLOCK,
      macLength: mac.length,
      // OpenSSH packet.c: with -etm only the bytes after packet_length are encrypted and aligned.
      lengthExcludedFromPadding: mac.etm,
    } as const;
    return { mac, stream, protection, computeMac: mac.create(keys.macKey) };
  }

  function createSealer(keys: DirectionKeys, mac: MacAlgorithm | undefined, backend: CryptoBackend): PacketSealer {
    const s = setup(keys, mac, backend);
    const macLength = s.mac.length;
    return {
      ...s.protection,
      seal(seq, packet) {
        const n = packet.length;
        const etm = s.mac.etm;
        if ((etm ? n - 4 : n) % BLOCK !== 0) throw lengthError(readLength(packet), n);
        const out = withMacRoom(packet, macLength);
        const encrypted = out.subarray(etm ? 4 : 0, n);
        const start = s.stream.take(encrypted.length / BLOCK);
        // RFC 4253 §6.4: MAC over seq || the unencrypted packet, taken before encryption.
        const plainMac = etm ? undefined : s.computeMac(seq, out.subarray(0, n));
        return then(s.stream.xor(start, encrypted), (cipher) => {
          if (cipher !== encrypted) encrypted.set(cipher);
          // PROTOCOL §1.5: MAC over seq || packet_length || encrypted packet.
          out.set(plainMac ?? s.computeMac(seq, out.subarray(0, n)), n);
          return out;
        });
      },
    };
  }

  function createOpener(keys: DirectionKeys, mac: MacAlgorithm | undefined, backend: CryptoBackend): PacketOpener {
    const s = setup(keys, mac, backend);
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
          const start = s.stream.take(length / BLOCK);
          // Verify before decrypting: no unauthenticated ciphertext reaches AES (PROTOCOL §1.5).
          if (!equalBytes(s.computeMac(seq, wire.subarray(0, end)), wire.subarray(end))) {
            throw macError(s.mac.name);
          }
          return s.stream.xor(start, wire.subarray(4, end));
        },
      };
    }
    return {
      ...s.protection,
      // The length is encrypted: the first cipher block is needed to read it.
      headerLength: BLOCK,
      packetLength(_seq, header) {
        if (header.length < BLOCK) throw lengthError(0, header.length);
        return readLength(s.stream.xorNow(s.stream.peek(), header.subarray(0, BLOCK)));
      },
      open(seq, wire) {
        const end = wire.length - macLength;
        if (end < BLOCK || end % BLOCK !== 0) throw lengthError(end - 4, wire.length);
        const start = s.stream.take(end / BLOCK);
        const received = wire.slice(end);
        return then(s.stream.xor(start, wire.subarray(0, end)), (plain) => {
          const length = readLength(plain);
          if (length !== end - 4 || length < 5) throw lengthError(length, wire.length);
          if (!equalBytes(s.computeMac(seq, plain), received)) throw macError(s.mac.name);
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
