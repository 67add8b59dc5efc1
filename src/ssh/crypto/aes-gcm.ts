/**
 * aes128-gcm@openssh.com and aes256-gcm@openssh.com: RFC 5647 as amended by OpenSSH
 * PROTOCOL §1.6 (negotiated only as a cipher; the MAC is ignored).
 *
 * RFC 5647 §7.1: the 12-byte nonce is a 4-byte fixed field || an 8-byte invocation counter,
 * both taken from the derived IV; the counter is incremented (mod 2^64) after every packet,
 * and the fixed field never changes. §7.3: packet_length is sent in the clear as the AAD;
 * the rest of the packet is encrypted; the 16-byte tag follows. §7.2 and OpenSSH's packet.c:
 * padding aligns the bytes after packet_length to the 16-byte AES block.
 */
import { withMacRoom, type CipherAlgorithm, type DirectionKeys, type PacketOpener, type PacketSealer } from "./cipher.js";
import type { CryptoSuite } from "./primitives.js";
import { ProtocolError } from "../../errors.js";

const TAG = 16;
const BLOCK = 16;

/** Yields the next nonce on each call: the caller's order of calls is the order of packets. */
function nonceSequence(iv: Uint8Array): () => Uint8Array {
  const nonce = iv.slice(0, 12);
  return () => {
    const current = nonce.slice();
    // Increment the 64-bit big-endian invocation counter in bytes 4..11 (RFC 5647 §7.1).
    for (let i = 11; i >= 4; i--) {
      nonce[i] = (nonce[i]! + 1) & 0xff;
      if (nonce[i] !== 0) break;
    }
    return current;
  };
}

function readLength(header: Uint8Array): number {
  if (header.length < 4) throw new ProtocolError("packet header shorter than 4 bytes", "BAD_LENGTH");
  return ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
}

function tagError(cause?: unknown): ProtocolError {
  return new ProtocolError("packet authentication failed (AES-GCM tag mismatch)", "BAD_MAC", { cause });
}

function gcmAlgorithm(name: string, keyLength: number): CipherAlgorithm {
  const protection = { name, blockSize: BLOCK, macLength: TAG, lengthExcludedFromPadding: true } as const;

  function setup(keys: DirectionKeys, suite: CryptoSuite) {
    if (keys.key.length < keyLength || keys.iv.length < 12) {
      throw new ProtocolError(`${name} needs a ${keyLength}-byte key and 12-byte IV`, "KEY_LENGTH");
    }
    const aes = suite.gcm(keys.key.subarray(0, keyLength));
    return { aes, nextNonce: nonceSequence(keys.iv), implementation: `aes-gcm: ${aes.implementation}` };
  }

  function createSealer(keys: DirectionKeys, _mac: unknown, suite: CryptoSuite): PacketSealer {
    const { aes, nextNonce, implementation } = setup(keys, suite);
    return {
      ...protection,
      implementation,
      seal(_seq, packet) {
        // The nonce is taken now, synchronously, so concurrent seals keep packet order.
        const nonce = nextNonce();
        const out = withMacRoom(packet, TAG);
        // The ciphertext and tag replace the plaintext after packet_length, in the same buffer;
        // nothing touches `out` again until they are there.
        const sealing = aes.seal(nonce, out.subarray(0, 4), out.subarray(4, packet.length), out.subarray(4));
        return sealing instanceof Promise ? sealing.then(() => out) : out;
      },
    };
  }

  function createOpener(keys: DirectionKeys, _mac: unknown, suite: CryptoSuite): PacketOpener {
    const { aes, nextNonce, implementation } = setup(keys, suite);
    return {
      ...protection,
      implementation,
      headerLength: 4,
      packetLength: (_seq, header) => readLength(header),
      open(_seq, wire) {
        const length = readLength(wire);
        if (wire.length !== 4 + length + TAG || length < 5 || length % BLOCK !== 0) {
          throw new ProtocolError(`bad packet length ${length} for ${wire.length} bytes`, "BAD_LENGTH");
        }
        const nonce = nextNonce();
        let opened;
        try {
          opened = aes.open(nonce, wire.subarray(0, 4), wire.subarray(4));
        } catch (e) {
          throw tagError(e);
        }
        return opened instanceof Promise
          ? opened.catch((e: unknown) => {
              throw tagError(e);
            })
          : opened;
      },
    };
  }

  return { name, keyLength, ivLength: 12, blockSize: BLOCK, aead: true, createSealer, createOpener };
}

export const AES128_GCM = gcmAlgorithm("aes128-gcm@openssh.com", 16);
export const AES256_GCM = gcmAlgorithm("aes256-gcm@openssh.com", 32);
